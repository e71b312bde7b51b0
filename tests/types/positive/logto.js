// Type-checks (not run): the web platform globals and Logto's payload for both
// token kinds, as a script handling both would use them.
/** @type {GetCustomJwtClaims} */
const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => {
  // A provider hook's own request (claimscript serve): the provider is one of four.
  if (context?.hook?.provider === 'zitadel') console.log(context.hook.payload.function);
  console.log('kind', token.kind, token.aud);
  console.trace({ a: 1 });
  if (token.kind === 'AccessToken') {
    const user = context?.user;
    if (!user) return {};
    console.info(user.primaryEmail?.toLowerCase(), user.profile.address?.country, token.accountId);
    const first = user.identities.github?.userId;
    console.debug(first, user.roles[0]?.scopes[0]?.resource.indicator, context?.grant?.subjectTokenContext.foo);
    console.warn(context?.interaction?.verificationRecords.map((r) => r.type), context?.organization?.customData.x);
    // Verification records: narrowing on `type` gives the kind's own fields.
    const records = context?.interaction?.verificationRecords ?? [];
    for (const record of records) {
      if (record.type === 'EnterpriseSso') {
        /** @type {EnterpriseSsoVerificationUserInfo | undefined} */
        const info = record.enterpriseUserInfo;
        /** @type {string | undefined} */
        const ssoEmail = record.enterpriseUserInfo?.email;
        /** @type {string} */
        const connector = record.connectorId;
        console.log(info?.id, ssoEmail, connector, record.issuer?.toLowerCase(), info?.department);
      } else if (record.type === 'Password') {
        /** @type {'username' | 'email' | 'phone' | 'userId'} */
        const kind = record.identifier.type;
        /** @type {string} */
        const value = record.identifier.value;
        console.log(kind, value, record.verified === true);
      } else if (record.type === 'Passkey') {
        // A kind Logto adds later still type-checks; its fields are unknown.
        console.log(record.id, record.verified, record.passkeyName);
      }
    }
    for (const record of records) {
      switch (record.type) {
        case 'EmailVerificationCode':
        case 'PhoneVerificationCode': {
          /** @type {'SignIn' | 'Register' | 'ForgotPassword' | 'Generic'} */
          const template = record.templateType;
          /** @type {'email' | 'phone'} */
          const to = record.identifier.type;
          console.log(template, to, record.identifier.value, record.verified);
          break;
        }
        case 'Social':
          console.log(record.connectorId, record.socialUserInfo?.id, record.socialUserInfo?.email, record.socialUserInfo?.rawData?.login);
          break;
        case 'Totp':
        case 'WebAuthn': {
          /** @type {string} */
          const mfaUser = record.userId;
          console.log(mfaUser, record.verified);
          break;
        }
        case 'BackupCode':
          console.log(record.userId, record.code?.length);
          break;
        case 'OneTimeToken': {
          /** @type {'email'} */
          const ottKind = record.identifier.type;
          /** @type {string[] | undefined} */
          const jit = record.oneTimeTokenContext?.jitOrganizationIds;
          console.log(ottKind, record.identifier.value, jit, record.verified);
          break;
        }
        default:
          console.log(record.id, record.type.length);
      }
    }
    // `find` keeps the whole union: narrow the record it returns.
    const sso = records.find((r) => r.type === 'EnterpriseSso');
    if (sso?.type === 'EnterpriseSso') console.log(sso.enterpriseUserInfo?.name);
  } else {
    console.error(token.clientId.length, context?.application?.customData);
  }
  const url = new URL('/v1/users', environmentVariables.API ?? 'https://api.example.com');
  url.searchParams.set('id', 'x');
  const parsed = URL.parse('nope');
  if (parsed === null && URL.canParse(url)) url.hash = '#a';
  const params = new URLSearchParams({ a: '1' });
  for (const [k, v] of params) console.log(k, v);
  const controller = new AbortController();
  controller.signal.addEventListener('abort', (event) => console.log(event.type, event.isTrusted), { once: true });
  controller.signal.onabort = function (event) { console.log(this.aborted, event.timeStamp); };
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(200)]);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${environmentVariables.KEY}` },
    body: JSON.stringify({ a: 1 }),
    signal,
  });
  const headers = new Headers(response.headers);
  for (const [name, value] of headers) console.log(name, value);
  headers.forEach((value, name) => console.log(name, value));
  const data = response.ok ? await response.json() : await response.text();
  const copy = response.clone();
  console.log(copy.status, copy.body === null, (await copy.bytes()).byteLength);
  const req = new Request('https://a.test', { method: 'PUT', body: new Uint8Array([1]) });
  console.log(req.signal.aborted, Response.json({ a: 1 }).type, Response.error().status, Response.redirect('https://x.test', 301).headers.get('location'));
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode('secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const mac = await crypto.subtle.sign('HMAC', key, enc.encode('msg'));
  const ok = await crypto.subtle.verify({ name: 'HMAC' }, key, mac, enc.encode('msg'));
  const digest = await crypto.subtle.digest('SHA-256', enc.encode('x'));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = crypto.randomUUID();
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const written = enc.encodeInto('héllo', new Uint8Array(8)).written;
  const b64 = btoa(String.fromCharCode(...bytes));
  const back = atob(b64);
  const clone = structuredClone({ when: new Date(), list: new Map([[1, 'a']]) });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const timer = setInterval((n) => console.log(n + 1), 5, 1);
  clearInterval(timer);
  clearTimeout(setTimeout(() => {}, 1));
  queueMicrotask(() => console.log('micro'));
  const target = new EventTarget();
  target.addEventListener('ping', { handleEvent(e) { console.log(e.type); } });
  target.dispatchEvent(new Event('ping', { cancelable: true }));
  try { controller.signal.throwIfAborted(); } catch (e) { if (e instanceof DOMException) console.log(e.name, e.code); }
  if (!ok) api.denyAccess('bad mac');
  return { data, hex, id, text, written, back, clone: clone.when.getTime(), key: key.algorithm.hash.name };
};
