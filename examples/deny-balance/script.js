// Deny issuance when the user's prepaid balance is exhausted.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ context, api }) => {
  const balance = context.user.customData?.balance ?? 0;
  if (balance <= 0) {
    api.denyAccess('Your balance is exhausted; top up to continue.');
  }
  return { balance };
};
