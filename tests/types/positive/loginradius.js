// Type-checks (not run): LoginRadius's profile and hook, exported through module.exports.
/** @type {Execute} */
module.exports.execute = async (lrObject, hook) => {
  hook.idToken.setCustomClaim('name', lrObject.FullName ?? lrObject.UserName);
  hook.accessToken.setCustomClaim('country', lrObject.Country?.Code);
  if (!lrObject.IsActive) hook.setError(403, 'Suspended');
  if (lrObject.Hook?.provider === 'supabase') hook.accessToken.setCustomClaim('aal', lrObject.Hook.payload.claims.aal);
  console.log(lrObject.Request?.IP, lrObject.Identities.map((i) => i.Provider), lrObject.CustomFields?.plan, hook.secrets.X);
};
