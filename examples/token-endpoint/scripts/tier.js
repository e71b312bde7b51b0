// Tag machine tokens with the client's tier.
const getCustomJwtClaims = async ({ token, environmentVariables }) => ({
  tier: environmentVariables.TIER,
  iss: 'https://forged.example', // protected: never reaches the token
});
