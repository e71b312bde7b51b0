// Organizations: the user's organizations and their role in each, for a
// multi-tenant API.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ context }) => {
  const { organizations = [], organizationRoles = [] } = context.user;
  /** @type {Record<string, string[]>} */
  const rolesByOrg = {};
  for (const { organizationId, roleName } of organizationRoles) {
    (rolesByOrg[organizationId] ??= []).push(roleName);
  }
  return {
    organizations: organizations.map((org) => ({
      id: org.id,
      name: org.name,
      roles: rolesByOrg[org.id] ?? [],
    })),
  };
};
