// A LoginRadius Identity Orchestration script, unchanged: the user's role and
// the permissions an authorization service grants it, into both tokens.
// Users without an email are refused.
const axios = require('axios');

/** @type {Execute} */
exports.execute = async (lrObject, hook) => {
  if (!lrObject.Email || lrObject.Email.length === 0) {
    hook.setError('400', 'Validation', 'email required');
    return;
  }
  const role = (lrObject.Roles || []).includes('admin') ? 'admin' : 'member';
  const { data } = await axios.get(`${hook.secrets.AUTHZ_URL}/permissions`, {
    params: { user: lrObject.Uid, role },
    headers: { Authorization: `Bearer ${hook.secrets.AUTHZ_TOKEN}` },
  });
  hook.accessToken.setCustomClaim('role', role);
  hook.accessToken.setCustomClaim('permissions', data.permissions);
  hook.idToken.setCustomClaim('role', role);
};
