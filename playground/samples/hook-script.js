// A provider's token hook (Okta, ZITADEL, Ory Hydra or Supabase) runs a
// Logto-style script: the claims service maps the provider's request to this
// input (crates/hooks) and the claims back into the provider's response.
/** @type {GetCustomJwtClaims} */
const getCustomJwtClaims = async ({ token, context }) => {
  const user = context?.user;
  if (!user) {
    // Machine to machine: no user, only the calling application.
    return { machine: true, client: token.clientId ?? null };
  }
  return {
    email: user.primaryEmail ?? null,
    roles: (user.roles ?? []).map((role) => role.name),
    organization: context?.organization?.name ?? null,
  };
};
