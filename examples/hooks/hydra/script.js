// Ory Hydra token hook: a tenant claim from the client's metadata. Hydra
// replaces the session's claim maps with the response, so the service
// answers with the request's existing claims merged with these.
const getCustomJwtClaims = async ({ token, context }) => {
  const tenant = context?.application?.customData?.tenant;
  return { tenant: tenant ?? 'default', client: token.clientId };
};
