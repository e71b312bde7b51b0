// Attribute-based access control: users who signed up after the beta opened
// (and opted in) get the beta features claim.
const BETA_OPENED_AT = Date.UTC(2023, 10, 1); // 2023-11-01

/** @type {GetCustomJwtClaims<'AccessToken'>} */
const getCustomJwtClaims = async ({ context }) => {
  const { createdAt, customData } = context.user;
  const isBetaUser = createdAt >= BETA_OPENED_AT && customData?.betaOptIn === true;
  return {
    beta: isBetaUser,
    features: isBetaUser ? ['new-dashboard', 'ai-summaries'] : [],
  };
};
