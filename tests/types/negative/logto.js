// Deliberately wrong (tsc must reject it): Logto's user has `roles`, not `rolez`.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ context }) => {
  return { roles: context.user.rolez.map((role) => role.name) };
};
