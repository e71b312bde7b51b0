// Conformance of Headers, Request, Response and fetch's abort handling,
// without network. Runs with harness.js in front of it (see there).
const getCustomJwtClaims = async () => {
  const URL_ = 'https://example.com/path?q=1';

  // ---- Headers ----

  check('Headers: case-insensitive', () => {
    const headers = new Headers({ 'Content-Type': 'text/plain' });
    return all(expect(headers.has('content-type'), true), expect(headers.get('CONTENT-TYPE'), 'text/plain'));
  });
  check('Headers: append combines, set replaces, delete removes', () => {
    const headers = new Headers();
    headers.append('Accept', 'a');
    headers.append('accept', 'b');
    const combined = headers.get('accept');
    headers.set('ACCEPT', 'c');
    const replaced = headers.get('accept');
    headers.delete('Accept');
    return expect(`${combined}|${replaced}|${headers.get('accept')}`, 'a, b|c|null');
  });
  check('Headers: values trimmed', () => expect(new Headers([['x', ' \t v \n']]).get('x'), 'v'));
  check('Headers: iteration sorted and lower-cased', () =>
    expect(JSON.stringify([...new Headers([['B', '2'], ['a', '1'], ['C', '3'], ['b', '4']])]), '[["a","1"],["b","2, 4"],["c","3"]]'));
  check('Headers: keys, values, forEach', () => {
    const headers = new Headers({ b: '2', a: '1' });
    const seen = [];
    headers.forEach((value, name) => seen.push(`${name}=${value}`));
    return expect(`${[...headers.keys()]}|${[...headers.values()]}|${seen}`, 'a,b|1,2|a=1,b=2');
  });
  check('Headers: invalid name throws', () => throwsType(() => new Headers({ 'bad name': 'x' }), TypeError));
  check('Headers: empty name throws', () => throwsType(() => new Headers().append('', 'x'), TypeError));
  check('Headers: value with a newline throws', () => throwsType(() => new Headers().set('x', 'a\nb'), TypeError));
  check('Headers: getSetCookie keeps cookies apart', () => {
    const headers = new Headers([['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']]);
    return all(expect(JSON.stringify(headers.getSetCookie()), '["a=1","b=2"]'),
      expect(JSON.stringify([...headers]), '[["set-cookie","a=1"],["set-cookie","b=2"]]'));
  });
  check('Headers: copy from Headers', () => expect(new Headers(new Headers({ a: '1' })).get('a'), '1'));
  check('Headers: record read in key order, values converted', () => {
    const seen = [];
    const record = { B: 1, get a() { seen.push('a'); return { toString: () => 'x' }; }, [Symbol('s')]: 'ignored' };
    Object.defineProperty(record, 'hidden', { value: 'no', enumerable: false });
    const headers = new Headers(record);
    return all(expect(JSON.stringify([...headers]), '[["a","x"],["b","1"]]'), expect(seen.join(), 'a'));
  });
  check('Headers: record with an invalid name throws', () => throwsType(() => new Headers({ ok: '1', 'bad name': 'x' }), TypeError));
  check('Headers: record with a non-ByteString value throws', () => throwsType(() => new Headers({ a: '\u0100' }), TypeError));
  check('Headers: toStringTag', () => expect(Object.prototype.toString.call(new Headers()), '[object Headers]'));

  // ---- Request ----

  check('Request: defaults', () => {
    const request = new Request(URL_);
    return all(expect(`${request.url} ${request.method} ${request.redirect} ${request.bodyUsed} ${request.body}`, `${URL_} GET follow false null`),
      expect(request.headers instanceof Headers, true), expect(request.signal instanceof AbortSignal, true), expect(request.signal.aborted, false));
  });
  check('Request: from a URL object', () => expect(new Request(new URL('https://example.com')).url, 'https://example.com/'));
  check('Request: method normalized', () =>
    expect(['get', 'post', 'Put', 'delete', 'options', 'head', 'patch', 'Custom'].map((method) => new Request(URL_, { method }).method).join(),
      'GET,POST,PUT,DELETE,OPTIONS,HEAD,PATCH,Custom'));
  check('Request: forbidden method throws', () => throwsType(() => new Request(URL_, { method: 'connect' }), TypeError));
  check('Request: relative URL throws', () => throwsType(() => new Request('/relative'), TypeError));
  check('Request: GET with a body throws', () => throwsType(() => new Request(URL_, { body: 'x' }), TypeError));
  check('Request: HEAD with a body throws', () => throwsType(() => new Request(URL_, { method: 'HEAD', body: 'x' }), TypeError));
  await checkAsync('Request: body read once', async () => {
    const request = new Request(URL_, { method: 'POST', body: 'hello' });
    const text = await request.text();
    return all(expect(text, 'hello'), expect(request.bodyUsed, true), await rejectsType(request.text(), TypeError));
  });
  check('Request: string body content-type', () =>
    expect(new Request(URL_, { method: 'POST', body: 'x' }).headers.get('content-type'), 'text/plain;charset=UTF-8'));
  await checkAsync('Request: URLSearchParams body and content-type', async () => {
    const request = new Request(URL_, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }) });
    return all(expect(request.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8'),
      expect(await request.text(), 'a=1&b=x+y'));
  });
  check('Request: explicit content-type kept', () =>
    expect(new Request(URL_, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/csv' } }).headers.get('content-type'), 'text/csv'));
  await checkAsync('Request: typed array body', async () =>
    expect(new Uint8Array(await new Request(URL_, { method: 'PUT', body: new Uint8Array([1, 2, 3]).subarray(1) }).arrayBuffer()).join(), '2,3'));
  await checkAsync('Request: clone', async () => {
    const request = new Request(URL_, { method: 'POST', body: 'data', headers: { a: '1' } });
    const copy = request.clone();
    return all(expect(`${copy.url} ${copy.method} ${copy.headers.get('a')} ${await copy.text()} ${await request.text()}`, `${URL_} POST 1 data data`),
      expect(copy.signal === request.signal, true));
  });
  await checkAsync('Request: clone of a used body throws', async () => {
    const request = new Request(URL_, { method: 'POST', body: 'data' });
    await request.text();
    return throwsType(() => request.clone(), TypeError);
  });
  await checkAsync('Request: from a Request takes its body and init overrides', async () => {
    const original = new Request(URL_, { method: 'POST', body: 'data', headers: { a: '1' } });
    const request = new Request(original, { headers: { b: '2' } });
    return expect(`${request.method} ${request.headers.get('a')} ${request.headers.get('b')} ${original.bodyUsed} ${await request.text()}`, 'POST null 2 true data');
  });

  // ---- Response ----

  check('Response: defaults', () => {
    const response = new Response();
    return expect(`${response.status} ${response.ok} "${response.statusText}" ${response.type} "${response.url}" ${response.redirected}`, '200 true "" default "" false');
  });
  check('Response: status, ok and statusText', () => {
    const response = new Response('gone', { status: 404, statusText: 'Not Found' });
    return expect(`${response.status} ${response.ok} ${response.statusText}`, '404 false Not Found');
  });
  check('Response: status out of range throws', () => throwsType(() => new Response('', { status: 600 }), RangeError));
  check('Response: status 199 throws', () => throwsType(() => new Response(null, { status: 199 }), RangeError));
  check('Response: 204 with a body throws', () => throwsType(() => new Response('x', { status: 204 }), TypeError));
  await checkAsync('Response.json', async () => {
    const response = Response.json({ a: [1, 'é'] }, { status: 201, headers: { 'x-a': '1' } });
    return all(expect(response.headers.get('content-type'), 'application/json'), expect(response.status, 201),
      expect(response.headers.get('x-a'), '1'), expect(JSON.stringify(await response.json()), '{"a":[1,"é"]}'));
  });
  check('Response.error', () => {
    const response = Response.error();
    return all(expect(`${response.type} ${response.status} ${response.ok}`, 'error 0 false'), throwsType(() => response.headers.set('a', 'b'), TypeError));
  });
  check('Response.redirect', () => {
    const response = Response.redirect('https://example.com/next', 307);
    return all(expect(`${response.status} ${response.headers.get('location')}`, '307 https://example.com/next'),
      expect(Response.redirect('https://example.com/').status, 302));
  });
  check('Response.error and redirect: clones keep immutable headers', () => {
    const error = Response.error().clone();
    const redirect = Response.redirect('https://example.com/next');
    redirect.headers.get('location'); // made before the clone, then copied
    const copy = redirect.clone();
    return all(throwsType(() => error.headers.append('a', 'b'), TypeError), throwsType(() => copy.headers.set('a', 'b'), TypeError),
      expect(copy.headers.get('location'), 'https://example.com/next'), expect(error.headers === error.headers, true));
  });
  check('Response.redirect: bad status throws', () => throwsType(() => Response.redirect('https://example.com/', 200), RangeError));
  await checkAsync('Response: clone and read both', async () => {
    const response = new Response('twice', { status: 202, headers: { a: '1' } });
    const copy = response.clone();
    return expect(`${await response.text()} ${await copy.text()} ${copy.status} ${copy.headers.get('a')}`, 'twice twice 202 1');
  });
  await checkAsync('Response: second read rejects', async () => {
    const response = new Response('once');
    await response.arrayBuffer();
    return rejectsType(response.text(), TypeError);
  });
  await checkAsync('Response: json() SyntaxError', () => rejectsType(new Response('{not json').json(), SyntaxError));
  await checkAsync('Response: bytes()', async () => {
    const bytes = await new Response('hé').bytes();
    return all(expect(bytes instanceof Uint8Array, true), expect(bytes.join(), '104,195,169'));
  });
  await checkAsync('Response: null body reads as empty, twice', async () => {
    const response = new Response(null);
    return expect(`${await response.text()}|${await response.text()}|${response.bodyUsed}`, '||false');
  });

  // ---- fetch ----

  await checkAsync('fetch: already aborted signal rejects with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    try {
      await fetch(URL_, { signal: controller.signal });
      return 'fetch resolved';
    } catch (error) {
      return error === reason || `got ${error}`;
    }
  });
  await checkAsync('fetch: aborted Request signal, default reason', async () => {
    const controller = new AbortController();
    controller.abort();
    try {
      await fetch(new Request(URL_, { signal: controller.signal }));
      return 'fetch resolved';
    } catch (error) {
      return all(expect(error === controller.signal.reason, true), expect(error.name, 'AbortError'));
    }
  });
  await checkAsync('fetch: invalid request rejects', () => rejectsType(fetch('/relative'), TypeError));
  await checkAsync('fetch: credentials in the URL reject', () => rejectsType(fetch('https://user:pw@example.com/'), TypeError));
  await checkAsync('fetch: GET with a body rejects, the Request input stays unused', async () => {
    const request = new Request(URL_, { method: 'POST', body: 'x' });
    const rejected = await rejectsType(fetch(request, { method: 'GET' }), TypeError);
    return all(rejected, expect(request.bodyUsed, false));
  });

  return { results };
};
