// ZITADEL Actions v2 (preaccesstoken): an Auth0-style script works the same
// way; the protocol and the script's style are independent.
exports.onExecutePostLogin = async (event, api) => {
  const org = event.hook?.payload?.org;
  if (org) api.accessToken.setCustomClaim('org_domain', org.primary_domain ?? org.name);
  api.accessToken.setCustomClaim('grants', (event.hook?.payload?.user_grants ?? []).length);
};
