// Machine-to-machine: a client-credentials token has no user; tag it with
// the calling application's tier from the environment.
/** @type {GetCustomJwtClaims} */
const getCustomJwtClaims = async ({ token, context, environmentVariables }) => {
  if (token.kind !== 'ClientCredentials') {
    return {};
  }
  const tiers = JSON.parse(environmentVariables.CLIENT_TIERS ?? '{}');
  return {
    client_tier: tiers[token.clientId] ?? 'standard',
    machine: true,
    has_context: context !== undefined,
  };
};
