// Conformance of URL and URLSearchParams, run as a claims script with harness.js in
// front of it (see there).
const getCustomJwtClaims = async () => {
  // ---- parsing and components ----

  check('components', () => {
    const url = new URL('https://user:pass@Example.COM:8443/a/b?x=1#top');
    return same(
      [url.href, url.origin, url.protocol, url.username, url.password, url.host, url.hostname, url.port,
        url.pathname, url.search, url.hash],
      ['https://user:pass@example.com:8443/a/b?x=1#top', 'https://example.com:8443', 'https:', 'user', 'pass',
        'example.com:8443', 'example.com', '8443', '/a/b', '?x=1', '#top'],
    );
  });
  check('default port is dropped', () => eq(new URL('https://example.com:443/').href, 'https://example.com/'));
  check('empty path becomes /', () => eq(new URL('http://example.com').pathname, '/'));
  check('IPv6 host with port', () => {
    const url = new URL('http://[::1]:8080/');
    return all(eq(url.host, '[::1]:8080'), eq(url.hostname, '[::1]'), eq(url.port, '8080'), eq(url.href, 'http://[::1]:8080/'));
  });
  check('IPv6 host is compressed', () => eq(new URL('http://[2001:db8:0:0:0:0:0:1]/').hostname, '[2001:db8::1]'));
  check('IPv4 host is normalized', () => eq(new URL('http://0x7f.1/').hostname, '127.0.0.1'));
  check('spaces and non-ASCII are percent-encoded', () => {
    const url = new URL('https://example.com/a b/ä?q=1 2&ü=ß#frag ment é');
    return all(
      eq(url.pathname, '/a%20b/%C3%A4'),
      eq(url.search, '?q=1%202&%C3%BC=%C3%9F'),
      eq(url.hash, '#frag%20ment%20%C3%A9'),
    );
  });
  check('IDN host becomes punycode', () => eq(new URL('https://bücher.example/').hostname, 'xn--bcher-kva.example'));
  check('non-special URL', () => {
    const url = new URL('mailto:someone@example.com');
    return all(eq(url.protocol, 'mailto:'), eq(url.pathname, 'someone@example.com'), eq(url.origin, 'null'));
  });

  // ---- relative resolution ----

  const base = 'http://a.com/b/c/d?x#y';
  check('relative ../x', () => eq(new URL('../x', base).href, 'http://a.com/b/x'));
  check('relative ./a/../b', () => eq(new URL('./a/../b', base).href, 'http://a.com/b/c/b'));
  check('relative //other.host/p', () => eq(new URL('//other.host/p', base).href, 'http://other.host/p'));
  check('relative ?q', () => eq(new URL('?q', base).href, 'http://a.com/b/c/d?q'));
  check('relative #h', () => eq(new URL('#h', base).href, 'http://a.com/b/c/d?x#h'));
  check('relative /abs', () => eq(new URL('/abs', base).href, 'http://a.com/abs'));
  check('base as a URL object', () => eq(new URL('e', new URL(base)).href, 'http://a.com/b/c/e'));
  check('absolute input ignores base', () => eq(new URL('https://z.org/', base).href, 'https://z.org/'));

  // ---- invalid URLs ----

  check('invalid URL throws TypeError', () => throws(() => new URL('not a url'), 'TypeError', TypeError));
  check('relative URL without base throws', () => throws(() => new URL('/path'), 'TypeError', TypeError));
  check('space in host throws', () => throws(() => new URL('http://exa mple.com/'), 'TypeError', TypeError));
  check('unclosed IPv6 throws', () => throws(() => new URL('http://[::1/'), 'TypeError', TypeError));
  check('bad port throws', () => throws(() => new URL('http://example.com:99999/'), 'TypeError', TypeError));
  check('invalid base throws', () => throws(() => new URL('a', 'not a base'), 'TypeError', TypeError));
  check('no arguments throws', () => throws(() => new URL(), 'TypeError', TypeError));
  check('canParse', () => all(
    eq(URL.canParse('http://x/'), true),
    eq(URL.canParse('nope'), false),
    eq(URL.canParse('a', 'http://x/'), true),
    eq(URL.canParse('a', 'nope'), false),
  ));
  check('parse', () => all(
    eq(URL.parse('nope'), null),
    eq(URL.parse('b', 'http://x/a/').href, 'http://x/a/b'),
    eq(URL.parse('http://x/') instanceof URL, true),
  ));

  // ---- setters ----

  check('protocol setter', () => {
    const url = new URL('http://example.com/');
    url.protocol = 'https';
    return eq(url.href, 'https://example.com/');
  });
  check('protocol setter cannot leave special schemes', () => {
    const url = new URL('http://example.com/');
    url.protocol = 'foo:';
    return eq(url.protocol, 'http:');
  });
  check('host setter', () => {
    const url = new URL('http://example.com:81/p');
    url.host = 'other.org:99';
    return all(eq(url.href, 'http://other.org:99/p'), eq(url.origin, 'http://other.org:99'));
  });
  check('hostname setter keeps port', () => {
    const url = new URL('http://example.com:81/p');
    url.hostname = 'z.org';
    return eq(url.href, 'http://z.org:81/p');
  });
  check('port setter', () => {
    const url = new URL('http://example.com/');
    url.port = '8080';
    const set = url.href;
    url.port = '';
    return all(eq(set, 'http://example.com:8080/'), eq(url.href, 'http://example.com/'));
  });
  check('port setter ignores invalid values', () => {
    const url = new URL('http://example.com:81/');
    url.port = 'abc';
    const afterLetters = url.port;
    url.port = '99999';
    return all(eq(afterLetters, '81'), eq(url.port, '81'));
  });
  check('port setter stops at first non-digit', () => {
    const url = new URL('http://example.com/');
    url.port = '8080abc';
    return eq(url.port, '8080');
  });
  check('port setter with default port', () => {
    const url = new URL('http://example.com:81/');
    url.port = '80';
    return eq(url.href, 'http://example.com/');
  });
  check('pathname setter', () => {
    const url = new URL('http://example.com/old?q#h');
    url.pathname = 'new path/ü';
    return eq(url.href, 'http://example.com/new%20path/%C3%BC?q#h');
  });
  check('search setter without ?', () => {
    const url = new URL('http://example.com/p#h');
    url.search = 'a=1 2';
    return eq(url.href, 'http://example.com/p?a=1%202#h');
  });
  check('search setter with ?', () => {
    const url = new URL('http://example.com/p');
    url.search = '?b=2';
    return eq(url.search, '?b=2');
  });
  check('search setter with empty string', () => {
    const url = new URL('http://example.com/p?x=1#h');
    url.search = '';
    return all(eq(url.href, 'http://example.com/p#h'), eq(url.search, ''));
  });
  check('hash setter', () => {
    const url = new URL('http://example.com/p');
    url.hash = 'frag';
    const set = url.href;
    url.hash = '#a b';
    const encoded = url.hash;
    url.hash = '';
    return all(eq(set, 'http://example.com/p#frag'), eq(encoded, '#a%20b'), eq(url.href, 'http://example.com/p'));
  });
  check('username and password setters', () => {
    const url = new URL('http://example.com/');
    url.username = 'me@home';
    url.password = 'p:w';
    return eq(url.href, 'http://me%40home:p%3Aw@example.com/');
  });
  check('href setter', () => {
    const url = new URL('http://example.com/');
    url.href = 'https://other.org/x?y=1';
    return all(eq(url.host, 'other.org'), eq(url.search, '?y=1'));
  });
  check('href setter with invalid URL throws TypeError', () => {
    const url = new URL('http://example.com/');
    return all(throws(() => { url.href = 'nope'; }, 'TypeError', TypeError), eq(url.href, 'http://example.com/'));
  });
  check('origin is read-only', () => {
    const url = new URL('http://example.com/');
    url.origin = 'http://x.org';
    return eq(url.href, 'http://example.com/');
  });

  // ---- searchParams linked to the URL ----

  check('searchParams reads the query', () => {
    const params = new URL('http://x/?a=1&b=2&a=3').searchParams;
    return all(eq(params.get('a'), '1'), same(params.getAll('a'), ['1', '3']), eq(params.get('c'), null));
  });
  check('searchParams is the same object each time', () => {
    const url = new URL('http://x/?a=1');
    return eq(url.searchParams, url.searchParams);
  });
  check('searchParams changes update the URL', () => {
    const url = new URL('http://x/p?a=1#h');
    url.searchParams.append('c', '3 4');
    const appended = url.href;
    url.searchParams.set('a', 'é');
    return all(eq(appended, 'http://x/p?a=1&c=3+4#h'), eq(url.search, '?a=%C3%A9&c=3+4'));
  });
  check('emptying searchParams drops the ?', () => {
    const url = new URL('http://x/p?a=1');
    url.searchParams.delete('a');
    return eq(url.href, 'http://x/p');
  });
  check('search setter updates searchParams', () => {
    const url = new URL('http://x/?a=1');
    const params = url.searchParams;
    url.search = '?z=9';
    return all(eq(params.get('z'), '9'), eq(params.has('a'), false));
  });
  check('href setter updates searchParams', () => {
    const url = new URL('http://x/?a=1');
    url.href = 'http://y/?k=v';
    return all(eq(url.searchParams.get('k'), 'v'), eq(url.searchParams.size, 1));
  });
  check('searchParams sort updates the URL', () => {
    const url = new URL('http://x/?b=2&a=1');
    url.searchParams.sort();
    return eq(url.search, '?a=1&b=2');
  });

  // ---- URLSearchParams ----

  check('decoding + and %20 and UTF-8', () => {
    const params = new URLSearchParams('?a=b+c&d=%20e&f=%C3%A9&g=%E2%82%AC');
    return all(eq(params.get('a'), 'b c'), eq(params.get('d'), ' e'), eq(params.get('f'), 'é'), eq(params.get('g'), '€'));
  });
  check('serializing spaces, + and UTF-8', () => eq(
    new URLSearchParams({ q: 'a b+c/é', 'x y': '*-._~' }).toString(),
    'q=a+b%2Bc%2F%C3%A9&x+y=*-._%7E',
  ));
  check('round trip', () => {
    const text = 'a=1&b=x+y&c=%C3%A9%E2%82%AC&d=%2B%26%3D';
    const params = new URLSearchParams(text);
    return all(eq(params.toString(), text), eq(params.get('d'), '+&='));
  });
  check('empty names and values', () => same([...new URLSearchParams('a&=b&c=&&')], [['a', ''], ['', 'b'], ['c', '']]));
  check('only one leading ? is stripped', () => same([...new URLSearchParams('??a=1')], [['?a', '1']]));
  check('malformed percent-escapes stay as they are', () => eq(new URLSearchParams('a=%zz%4').get('a'), '%zz%4'));
  check('from pairs', () => eq(new URLSearchParams([['a', '1'], ['b', '2'], ['a', '3']]).toString(), 'a=1&b=2&a=3'));
  check('from a record', () => eq(new URLSearchParams({ a: '1', b: 2 }).toString(), 'a=1&b=2'));
  check('from another URLSearchParams', () => {
    const original = new URLSearchParams('a=1');
    const copy = new URLSearchParams(original);
    copy.append('b', '2');
    return all(eq(original.toString(), 'a=1'), eq(copy.toString(), 'a=1&b=2'));
  });
  check('from a Map', () => eq(new URLSearchParams(new Map([['k', 'v']])).toString(), 'k=v'));
  check('pair with 3 items throws TypeError', () => throws(() => new URLSearchParams([['a', '1', '2']]), 'TypeError', TypeError));
  check('pair with 1 item throws TypeError', () => throws(() => new URLSearchParams([['a']]), 'TypeError', TypeError));
  check('non-iterable pair throws TypeError', () => throws(() => new URLSearchParams([1]), 'TypeError', TypeError));
  check('delete with value', () => {
    const params = new URLSearchParams('a=1&a=2&b=1');
    params.delete('a', '2');
    const oneValue = params.toString();
    params.delete('a');
    return all(eq(oneValue, 'a=1&b=1'), eq(params.toString(), 'b=1'));
  });
  check('has with value', () => {
    const params = new URLSearchParams('a=1&a=2');
    return all(eq(params.has('a'), true), eq(params.has('a', '2'), true), eq(params.has('a', '3'), false), eq(params.has('b'), false));
  });
  check('set replaces the first and drops the rest', () => {
    const params = new URLSearchParams('a=1&b=2&a=3&c=4');
    params.set('a', '9');
    params.set('d', '5');
    return eq(params.toString(), 'a=9&b=2&c=4&d=5');
  });
  check('sort is stable', () => {
    const params = new URLSearchParams('z=1&a=2&z=0&a=1');
    params.sort();
    return eq(params.toString(), 'a=2&a=1&z=1&z=0');
  });
  check('sort compares UTF-16 code units', () => {
    const params = new URLSearchParams([['\ufffd', 'x'], ['\ud83d\ude00', 'y'], ['a', 'z']]);
    params.sort();
    return same([...params.keys()], ['a', '\ud83d\ude00', '\ufffd']);
  });
  check('iteration', () => {
    const params = new URLSearchParams('a=1&b=2');
    return all(
      same([...params], [['a', '1'], ['b', '2']]),
      same([...params.entries()], [['a', '1'], ['b', '2']]),
      same([...params.keys()], ['a', 'b']),
      same([...params.values()], ['1', '2']),
      eq(Object.prototype.toString.call(params.keys()), '[object URLSearchParams Iterator]'),
    );
  });
  check('forEach', () => {
    const seen = [];
    const params = new URLSearchParams('a=1&b=2');
    params.forEach(function (value, name, object) { seen.push([name, value, object === params, this.tag]); }, { tag: 't' });
    return same(seen, [['a', '1', true, 't'], ['b', '2', true, 't']]);
  });
  check('size', () => eq(new URLSearchParams('a=1&a=2&b=3').size, 3));
  check('lone surrogates become U+FFFD', () => eq(new URLSearchParams({ a: '\ud800' }).toString(), 'a=%EF%BF%BD'));
  check('append needs two arguments', () => throws(() => new URLSearchParams().append('a'), 'TypeError', TypeError));

  // ---- shape ----

  check('toString and toJSON', () => {
    const url = new URL('http://x/a b');
    return all(eq(String(url), 'http://x/a%20b'), eq(JSON.stringify({ url }), '{"url":"http://x/a%20b"}'));
  });
  check('toStringTag', () => all(
    eq(Object.prototype.toString.call(new URL('http://x/')), '[object URL]'),
    eq(Object.prototype.toString.call(new URLSearchParams()), '[object URLSearchParams]'),
  ));
  check('getters on the wrong object throw', () => throws(() => Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({}), 'TypeError', TypeError));

  return { results };
};
