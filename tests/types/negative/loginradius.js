// Deliberately wrong (tsc must reject it): the hook's method is `setError`.
/** @type {Execute} */
exports.execute = async (lrObject, hook) => {
  if (lrObject.Email.length === 0) {
    hook.setErrror('400', 'Validation', 'email required');
    return;
  }
  hook.accessToken.setCustomClaim('uid', lrObject.Uid);
};
