// Role-based access control: put the user's roles and the permissions
// (scopes) they grant into the access token.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => {
  const roles = context.user.roles ?? [];
  return {
    roles: roles.map((role) => role.name),
    permissions: [...new Set(roles.flatMap((role) => role.scopes.map((scope) => scope.name)))],
  };
};
