// Deliberately wrong (tsc must reject it): Claimscript does not provide
// Auth0's `api.multifactor`.
/** @type {OnExecutePostLogin} */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.requireMfa) {
    api.multifactor.enable('any');
  }
  api.accessToken.setCustomClaim('https://acme.test/roles', event.authorization.roles);
};
