// Okta token inline hook: Okta groups become roles, and the roles become
// permissions (a Logto-style script; Okta's own request is at context.hook).
const PERMISSIONS = {
  Everyone: ['read:reports'],
  admins: ['read:reports', 'write:reports', 'delete:reports'],
};

const getCustomJwtClaims = async ({ context }) => {
  const roles = (context.user?.roles ?? []).map((role) => role.name);
  const permissions = [...new Set(roles.flatMap((role) => PERMISSIONS[role] ?? []))];
  return { roles, permissions, okta_event: context.hook?.payload?.eventId };
};
