// Type-checks (not run): both Auth0 triggers and the axios shim.
const axios = require('axios');
/** @type {OnExecutePostLogin} */
exports.onExecutePostLogin = async (event, api) => {
  const client = axios.create({ baseURL: event.secrets.BASE, timeout: 300, headers: { 'x-a': 'b' } });
  try {
    const { data, status, headers } = await client.post('/items', { user: event.user.user_id }, { params: { page: 2, q: null } });
    const res = await axios({ url: 'https://a.test', method: 'GET', responseType: 'text', validateStatus: null });
    const r2 = await axios.request({ url: 'https://a.test' });
    const r3 = await axios('https://a.test', { method: 'delete' });
    console.log(data.items, status, headers['content-type'], res.data, r2.config.url, r3.statusText);
  } catch (error) {
    if (axios.isAxiosError(error)) console.log(error.response.status, error.code);
  }
  api.accessToken.removeScope('x');
  api.idToken.setCustomClaim('org', event.organization?.display_name);
  console.log(event.request.ip, event.transaction.requested_scopes, event.resource_server.identifier, event.client.metadata.tier);
};
/** @type {OnExecuteCredentialsExchange} */
exports.onExecuteCredentialsExchange = async (event, api) => {
  if (!event.accessToken.scope.includes('read')) api.access.deny('invalid_scope', 'read needed');
  api.accessToken.setCustomClaim('tier', event.client.metadata.tier);
  // A provider hook's own request (claimscript serve).
  if (event.hook?.provider === 'okta') api.accessToken.setCustomClaim('okta_event', event.hook.payload.eventId);
};
