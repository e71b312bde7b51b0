// Logto's "fetch external data" example: ask a balance service about the
// user and deny issuance when the balance is exhausted.
/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => {
  const response = await fetch(`${environmentVariables.BALANCE_API}/balance/${context.user.id}`, {
    headers: { Authorization: `Bearer ${environmentVariables.BALANCE_API_KEY}` },
  });
  if (!response.ok) {
    throw new Error(`balance service answered ${response.status}`);
  }
  const { balance } = await response.json();
  if (balance <= 0) {
    api.denyAccess('Your balance is exhausted; top up to continue.');
  }
  return { balance };
};
