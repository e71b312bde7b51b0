// An Auth0 credentials-exchange Action (machine-to-machine): the client's
// tier from a secret into a namespaced claim; unknown clients denied.
/** @type {OnExecuteCredentialsExchange} */
exports.onExecuteCredentialsExchange = async (event, api) => {
  const tiers = JSON.parse(event.secrets.CLIENT_TIERS || '{}');
  // `client_id` is absent when the input names no client.
  const tier = event.client.client_id && tiers[event.client.client_id];
  if (!tier) {
    api.access.deny('invalid_request', `Unknown client ${event.client.client_id ?? '(none given)'}`);
    return;
  }
  api.accessToken.setCustomClaim('https://acme.test/tier', tier);
};
