// An Auth0 post-login Action, unchanged: the user's roles into a namespaced
// access-token claim, the nickname into the ID token, and blocked users denied.
/** @type {OnExecutePostLogin} */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata?.blocked) {
    api.access.deny('blocked');
    return;
  }
  api.accessToken.setCustomClaim('https://acme.test/roles', event.authorization?.roles);
  api.idToken.setCustomClaim('nickname', event.user.nickname);
  if (event.authorization?.roles.includes('admin')) {
    api.accessToken.addScope('admin:reports');
  }
};
