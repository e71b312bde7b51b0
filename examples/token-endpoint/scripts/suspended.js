const getCustomJwtClaims = async ({ api }) => {
  api.denyAccess('This client is suspended.');
};
