// Supabase custom access token hook: a tenant and a plan from the user's
// app_metadata (context.user.customData); banned users get no token.
const getCustomJwtClaims = async ({ context, api }) => {
  const meta = context.user?.customData ?? {};
  if (meta.banned) api.denyAccess('This account is suspended.');
  return { tenant: meta.tenant ?? 'public', plan: meta.plan ?? 'free' };
};
