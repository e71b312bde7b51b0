const getCustomJwtClaims = async ({ context }) => ({ region: context.application.region });
