// Deliberately wrong (tsc must reject it): Logto's user has `roles`, not `rolez`.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ context }) => {
  return { roles: context.user.rolez.map((role) => role.name) };
};

// Deliberately wrong as well: a record narrowed on `type` has exactly its
// kind's fields, so misspelt ones are errors (`enterpriseUserInfo`, `value`).
/** @param {InteractionVerificationRecord} record */
const signedInWith = (record) => {
  if (record.type === 'EnterpriseSso') return record.enterpriseUserinfo?.email;
  if (record.type === 'Password') return record.identifier.valeu;
  return undefined;
};

// Deliberately wrong as well: a provider hook comes from one of four
// providers, and Auth0 is not one of them.
/** @param {ProviderHook} hook */
const fromAuth0 = (hook) => hook.provider === 'auth0';
