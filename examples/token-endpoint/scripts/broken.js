// A bug: applications have no `settings`, so this throws a TypeError.
const getCustomJwtClaims = async ({ context }) => ({ region: context.application.settings.region });
