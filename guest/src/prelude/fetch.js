// Web Crypto and the Fetch API: `crypto`, `Crypto`, `SubtleCrypto`,
// `CryptoKey`, `Headers`, `Request`, `Response` and `fetch`.
//
// Evaluated once, at load time, after web.js (which installed DOMException,
// AbortController, AbortSignal, URL, URLSearchParams, ...). `native` holds the
// Rust calls; `shared` gives web.js's abort hooks and receives the event
// loop's hooks `fetchHandles` and `deliver`.
(function (native, shared) {
  'use strict';

  // Captured now, so that a script replacing these globals cannot affect us.
  const { DOMException, AbortController, AbortSignal, URL, URLSearchParams, Promise } = globalThis;
  const { parse: parseJson, stringify: stringifyJson } = JSON;
  const { isArray } = Array;
  // web.js's view of abort signals, which scripts cannot reach.
  const { onAbort, abortState } = shared;

  // ---- helpers ------------------------------------------------------------

  // Passed by this file to the constructors that scripts may not call.
  const INTERNAL = Symbol('internal');

  function checkInternal(token) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
  }

  function defineTag(Class) {
    Object.defineProperty(Class.prototype, Symbol.toStringTag, { value: Class.name, configurable: true });
  }

  function install(name, value) {
    Object.defineProperty(globalThis, name, { value, writable: true, enumerable: false, configurable: true });
  }

  // A WebIDL dictionary argument: undefined and null are an empty one.
  function dictionary(value, what) {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError(`${what} must be an object`);
    return value;
  }

  // A copy of a BufferSource's bytes, or null when `value` is not one.
  function copyBytes(value) {
    if (value instanceof ArrayBuffer) return value.slice(0);
    if (ArrayBuffer.isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
    return null;
  }

  function bufferSource(value, what) {
    const bytes = copyBytes(value);
    if (bytes === null) throw new TypeError(`${what} must be an ArrayBuffer or an ArrayBufferView`);
    return bytes;
  }

  // WHATWG "UTF-8 decode": replacement characters, and a leading BOM dropped.
  function utf8Decode(buffer) {
    const text = native.utf8Decode(buffer, false);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  // "Parse JSON from bytes" (Body.json()): the runtime's JSON builder, in
  // one pass over the bytes; when it declines (not JSON, or a lone
  // surrogate it cannot build), JSON.parse's own result or SyntaxError.
  function bodyJson(buffer) {
    const parsed = native.jsonParse(buffer);
    return parsed !== null ? parsed[0] : parseJson(utf8Decode(buffer));
  }
  shared.bodyJson = bodyJson;
  shared.utf8Decode = utf8Decode;

  // ---- crypto -------------------------------------------------------------

  const MAX_RANDOM_BYTES = 65536;
  const INTEGER_ARRAYS = new Set([
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
    'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
  ]);
  // %TypedArray%.prototype[@@toStringTag]: the array's type name, or
  // undefined for anything that is not a typed array.
  const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;

  const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
  const KEY_USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];
  const HMAC_USAGES = ['sign', 'verify'];

  function getRandomValues(array) {
    if (!ArrayBuffer.isView(array)) throw new TypeError('getRandomValues: argument must be an integer typed array');
    if (!INTEGER_ARRAYS.has(typedArrayName.call(array))) {
      throw new DOMException('getRandomValues: argument must be an integer typed array', 'TypeMismatchError');
    }
    const length = array.byteLength;
    if (length > MAX_RANDOM_BYTES) {
      throw new DOMException(`getRandomValues: ${length} bytes requested, at most ${MAX_RANDOM_BYTES} allowed`, 'QuotaExceededError');
    }
    if (length > 0) new Uint8Array(array.buffer, array.byteOffset, length).set(new Uint8Array(native.randomBytes(length)));
    return array;
  }

  function randomUUID() {
    const bytes = new Uint8Array(native.randomBytes(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // "Normalize an algorithm": the canonical spelling of its name among
  // `supported` (matched case-insensitively), and the dictionary it came in.
  function normalizeAlgorithm(algorithm, supported) {
    const params = typeof algorithm === 'object' && algorithm !== null ? algorithm : { name: String(algorithm) };
    if (params.name === undefined) throw new TypeError('Algorithm: name is required');
    const wanted = String(params.name).toUpperCase();
    const name = supported.find((candidate) => candidate.toUpperCase() === wanted);
    if (name === undefined) throw new DOMException(`Unrecognized or unsupported algorithm: ${params.name}`, 'NotSupportedError');
    return { name, params };
  }

  function hmacUsages(usages) {
    if (usages === null || typeof usages !== 'object' || typeof usages[Symbol.iterator] !== 'function') {
      throw new TypeError('importKey: keyUsages must be a sequence');
    }
    const list = Array.from(usages, String);
    for (const usage of list) {
      if (!KEY_USAGES.includes(usage)) throw new TypeError(`importKey: '${usage}' is not a KeyUsage`);
      if (!HMAC_USAGES.includes(usage)) throw new DOMException(`importKey: an HMAC key cannot be used to ${usage}`, 'SyntaxError');
    }
    return HMAC_USAGES.filter((usage) => list.includes(usage));
  }

  // The key length in bits: the key data's, or the `length` asked for, which
  // may only drop bits from the last byte.
  function hmacLength(requested, bytes) {
    const available = bytes.byteLength * 8;
    if (available === 0) throw new DOMException('importKey: the key is empty', 'DataError');
    if (requested === undefined) return available;
    const length = Number(requested);
    if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new TypeError('importKey: length must be an unsigned long');
    if (length > available || length <= available - 8) {
      throw new DOMException(`importKey: length ${length} does not match ${available} bits of key data`, 'DataError');
    }
    return length;
  }

  let keyInternals;

  class CryptoKey {
    #extractable;
    #algorithm;
    #usages;
    #internals;

    constructor(token = undefined, internals = undefined) {
      checkInternal(token);
      this.#internals = internals;
      this.#extractable = internals.extractable;
      this.#algorithm = { name: 'HMAC', hash: { name: internals.hash }, length: internals.length };
      this.#usages = [...internals.usages];
    }
    get type() { return 'secret'; }
    get extractable() { return this.#extractable; }
    get algorithm() { return this.#algorithm; }
    get usages() { return this.#usages; }

    static {
      keyInternals = (key) => {
        if (!(key !== null && typeof key === 'object' && #internals in key)) throw new TypeError('key must be a CryptoKey');
        return key.#internals;
      };
    }
  }

  // The HMAC key to `sign` or `verify` with.
  function hmacKey(algorithm, key, usage) {
    normalizeAlgorithm(algorithm, ['HMAC']);
    const internals = keyInternals(key);
    if (!internals.usages.includes(usage)) throw new DOMException(`key cannot be used to ${usage}`, 'InvalidAccessError');
    return internals;
  }

  class SubtleCrypto {
    constructor(token = undefined) { checkInternal(token); }

    async digest(algorithm, data) {
      const { name } = normalizeAlgorithm(algorithm, HASHES);
      return native.digest(name, bufferSource(data, 'digest: data'));
    }

    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      const { params } = normalizeAlgorithm(algorithm, ['HMAC']);
      if (params.hash === undefined) throw new TypeError('importKey: HMAC needs a hash');
      const hash = normalizeAlgorithm(params.hash, HASHES).name;
      const usages = hmacUsages(keyUsages);
      if (String(format) !== 'raw') throw new DOMException(`importKey: unsupported key format ${format}`, 'NotSupportedError');
      const bytes = bufferSource(keyData, 'importKey: keyData');
      const length = hmacLength(params.length, bytes);
      if (usages.length === 0) throw new DOMException('importKey: a secret key needs at least one usage', 'SyntaxError');
      return new CryptoKey(INTERNAL, { extractable: Boolean(extractable), hash, length, usages, bytes });
    }

    async exportKey(format, key) {
      const internals = keyInternals(key);
      if (String(format) !== 'raw') throw new DOMException(`exportKey: unsupported key format ${format}`, 'NotSupportedError');
      if (!internals.extractable) throw new DOMException('exportKey: the key is not extractable', 'InvalidAccessError');
      return internals.bytes.slice(0);
    }

    async sign(algorithm, key, data) {
      const bytes = bufferSource(data, 'sign: data');
      const { hash, bytes: secret } = hmacKey(algorithm, key, 'sign');
      return native.hmac(hash, secret, bytes);
    }

    async verify(algorithm, key, signature, data) {
      const expected = bufferSource(signature, 'verify: signature');
      const bytes = bufferSource(data, 'verify: data');
      const { hash, bytes: secret } = hmacKey(algorithm, key, 'verify');
      const actual = native.hmac(hash, secret, bytes);
      // Lengths are public (the hash's output size); only contents are compared in constant time.
      return actual.byteLength === expected.byteLength && native.timingSafeEqual(actual, expected);
    }
  }

  const subtle = new SubtleCrypto(INTERNAL);

  class Crypto {
    constructor(token = undefined) { checkInternal(token); }
    get subtle() { return subtle; }
    getRandomValues(array) { return getRandomValues(array); }
    randomUUID() { return randomUUID(); }
  }

  for (const Class of [CryptoKey, SubtleCrypto, Crypto]) defineTag(Class);
  install('crypto', new Crypto(INTERNAL));
  install('Crypto', Crypto);
  install('SubtleCrypto', SubtleCrypto);
  install('CryptoKey', CryptoKey);

  // ---- Headers ------------------------------------------------------------

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

  // An HTTP token, lower-cased (checked by a native: a regular expression
  // costs thousands of fuel a call).
  function headerName(name) {
    return native.headerName(String(name));
  }

  // A ByteString, stripped of surrounding HTTP whitespace, without NUL, CR or LF.
  function headerValue(value) {
    return native.headerValue(String(value));
  }

  // A header list ([lower-cased name, value] pairs in insertion order) from
  // a HeadersInit: a Headers, an iterable of pairs or a record; empty for
  // undefined or null.
  function headerList(init) {
    if (init === undefined || init === null) return [];
    if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError('Headers: init must be an object, an iterable of pairs or Headers');
    }
    const copied = listOf(init);
    if (copied !== null) return copied.map(([name, value]) => [name, value]);
    const list = [];
    if (typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const entry = Array.from(pair);
        if (entry.length !== 2) throw new TypeError('Headers: each pair must have exactly two items');
        list.push([headerName(entry[0]), headerValue(entry[1])]);
      }
      return list;
    }
    return native.headerRecord(init);
  }

  function listHas(list, key) {
    for (let i = 0; i < list.length; i++) if (list[i][0] === key) return true;
    return false;
  }

  function listValues(list, key) {
    return list.filter(([n]) => n === key).map(([, v]) => v);
  }

  // "Sort and combine": by name, one entry per name with its values joined
  // by ", ", except set-cookie whose values stay separate entries. A list
  // of one entry or none is returned as it is.
  function sortAndCombine(list) {
    if (list.length < 2) return list;
    const names = [...new Set(list.map(([n]) => n))].sort();
    const out = [];
    for (const name of names) {
      const values = listValues(list, name);
      if (name === 'set-cookie') {
        for (const value of values) out.push([name, value]);
      } else {
        out.push([name, values.join(', ')]);
      }
    }
    return out;
  }

  let listOf;
  let headersOf;
  let copyHeaders;

  class Headers {
    // The header list: [lower-cased name, value] pairs in insertion order.
    #list = [];
    // Responses made by fetch, error() and redirect() have immutable headers.
    #immutable = false;

    constructor(init = undefined) {
      if (init !== undefined && init !== null) this.#list = headerList(init);
    }

    #checkMutable() {
      if (this.#immutable) throw new TypeError('Headers are immutable');
    }

    append(name, value) {
      this.#checkMutable();
      this.#list.push([headerName(name), headerValue(value)]);
    }

    set(name, value) {
      this.#checkMutable();
      const key = headerName(name);
      const v = headerValue(value);
      const index = this.#list.findIndex(([n]) => n === key);
      if (index < 0) {
        this.#list.push([key, v]);
      } else {
        this.#list[index] = [key, v];
        this.#list = this.#list.filter(([n], i) => n !== key || i === index);
      }
    }

    delete(name) {
      this.#checkMutable();
      const key = headerName(name);
      this.#list = this.#list.filter(([n]) => n !== key);
    }

    get(name) {
      const values = listValues(this.#list, headerName(name));
      return values.length === 0 ? null : values.join(', ');
    }

    has(name) {
      return listHas(this.#list, headerName(name));
    }

    getSetCookie() {
      return listValues(this.#list, 'set-cookie');
    }

    // Iteration walks a snapshot taken when it starts.
    #sorted() {
      return sortAndCombine(this.#list).map(([name, value]) => [name, value]);
    }

    *entries() { yield* this.#sorted(); }
    *keys() { for (const [name] of this.#sorted()) yield name; }
    *values() { for (const [, value] of this.#sorted()) yield value; }

    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') throw new TypeError('Headers.forEach: callback must be a function');
      for (const [name, value] of this.#sorted()) callback.call(thisArg, value, name, this);
    }

    static {
      // The list of a Headers, or null for anything else.
      listOf = (value) => (#list in value ? value.#list : null);
      // A Headers adopting `list` as it is: the host's list of a response
      // (already valid HTTP), or one made by headerList.
      headersOf = (list, immutable) => {
        const headers = new Headers();
        headers.#list = list;
        headers.#immutable = immutable;
        return headers;
      };
      // A copy with the same guard, for Response.clone().
      copyHeaders = (headers) => headersOf(headers.#list.map(([name, value]) => [name, value]), headers.#immutable);
    }
  }

  Object.defineProperty(Headers.prototype, Symbol.iterator, { value: Headers.prototype.entries, writable: true, configurable: true });
  defineTag(Headers);
  install('Headers', Headers);

  // ---- Body (shared by Request and Response) -----------------------------

  const TEXT_PLAIN = 'text/plain;charset=UTF-8';
  const FORM_URLENCODED = 'application/x-www-form-urlencoded;charset=UTF-8';

  // "Extract a body": null for no body, else its bytes and default content type.
  // Like WebIDL's BodyInit union, anything else is converted to a string.
  function extractBody(body) {
    if (body === undefined || body === null) return null;
    const bytes = copyBytes(body);
    if (bytes !== null) return { bytes, type: null };
    if (body instanceof URLSearchParams) return { bytes: native.utf8Encode(body.toString()), type: FORM_URLENCODED };
    return { bytes: native.utf8Encode(String(body)), type: TEXT_PLAIN };
  }

  // A header list's content type, when it has none, from its extracted body.
  function setDefaultContentType(list, extracted) {
    if (extracted !== null && extracted.type !== null && !listHas(list, 'content-type')) {
      list.push(['content-type', extracted.type]);
    }
  }

  let peekBody;
  let takeBody;
  let cloneBody;
  let adoptBody;

  // The body mixin, as a base class that is not exposed. The body is held as
  // bytes: ReadableStream does not exist here, so `body` is always null and
  // the content is read with arrayBuffer(), bytes(), text() or json().
  class Body {
    // An ArrayBuffer, or null for no body.
    #bytes;
    #used = false;

    constructor(bytes) { this.#bytes = bytes; }

    get body() { return null; }
    get bodyUsed() { return this.#used; }

    // "Consume body": a null body reads as empty and can be read again.
    #consume() {
      const bytes = this.#bytes;
      if (bytes === null) return new ArrayBuffer(0);
      if (this.#used) throw new TypeError('Body has already been consumed');
      this.#used = true;
      this.#bytes = new ArrayBuffer(0);
      return bytes;
    }

    async arrayBuffer() { return this.#consume(); }
    async bytes() { return new Uint8Array(this.#consume()); }
    async text() { return utf8Decode(this.#consume()); }
    async json() { return bodyJson(this.#consume()); }

    static {
      // The bytes (null for no body) without reading them.
      peekBody = (owner) => owner.#bytes;
      // The bytes, handed over to a new owner: `owner`'s body becomes used.
      takeBody = (owner) => (owner.#bytes === null ? null : owner.#consume());
      // A copy of the bytes, for clone().
      cloneBody = (owner) => {
        if (owner.#used) throw new TypeError('Body has already been consumed');
        return owner.#bytes === null ? null : owner.#bytes.slice(0);
      };
      adoptBody = (owner, bytes) => { owner.#bytes = bytes; };
    }
  }

  // ---- Request ------------------------------------------------------------

  const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];
  // Upper-cased whatever their case. PATCH is not in the Fetch standard's list.
  const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

  function requestMethod(value) {
    const method = String(value);
    if (!TOKEN.test(method)) throw new TypeError(`Invalid method: '${method}'`);
    const upper = method.toUpperCase();
    if (FORBIDDEN_METHODS.includes(upper)) throw new TypeError(`Forbidden method: ${method}`);
    return NORMALIZED_METHODS.includes(upper) ? upper : method;
  }

  // A request's URL: the href of an absolute URL without credentials.
  function requestUrl(value) {
    const href = native.fetchUrl(String(value));
    if (typeof href === 'string') return href;
    if (href === null) throw new TypeError(`Request: '${value}' is not an absolute URL`);
    throw new TypeError('Request: the URL must not include credentials');
  }

  // There is no base URL to resolve against: URLs must be absolute.
  function absoluteUrl(value, what) {
    try {
      return new URL(String(value));
    } catch (_) {
      throw new TypeError(`${what}: '${value}' is not an absolute URL`);
    }
  }

  function requestSignal(value) {
    if (value !== null && !(value instanceof AbortSignal)) throw new TypeError('Request: signal must be an AbortSignal');
    return value;
  }

  let requestParts;
  let isRequest;

  // What "new Request(input, init)" checks and takes, without making the
  // object: fetch() sends these parts as they are. When `input` is a
  // Request without a body given in `init`, its body is handed over
  // (`input` becomes used).
  function requestFrom(input, init) {
    const source = input !== null && typeof input === 'object' && isRequest(input) ? requestParts(input) : null;
    const options = dictionary(init, 'RequestInit');
    const url = source !== null ? source.url : requestUrl(input);
    const method = options.method !== undefined ? requestMethod(options.method) : source !== null ? source.method : 'GET';
    const headers = headerList(options.headers !== undefined ? options.headers : source !== null ? source.headers : undefined);
    let signal = source !== null ? source.signal : null;
    if (options.signal !== undefined) signal = requestSignal(options.signal);
    if (options.redirect !== undefined && String(options.redirect) !== 'follow') {
      throw new TypeError(`Request: redirect '${options.redirect}' is not supported, only 'follow'`);
    }
    const extracted = extractBody(options.body);
    const inputBody = source !== null ? peekBody(input) : null;
    if ((extracted !== null || inputBody !== null) && (method === 'GET' || method === 'HEAD')) {
      throw new TypeError(`Request: a ${method} request cannot have a body`);
    }
    setDefaultContentType(headers, extracted);
    const body = extracted !== null ? extracted.bytes : source !== null ? takeBody(input) : null;
    return { url, method, headers, signal, body };
  }

  class Request extends Body {
    #url;
    #method;
    #headers;
    #signal;

    constructor(input, init = undefined) {
      const { url, method, headers, signal, body } = requestFrom(input, init);
      super(body);
      this.#url = url;
      this.#method = method;
      this.#headers = headersOf(headers, false);
      // Made when first asked for: most requests never are.
      this.#signal = signal;
    }

    get url() { return this.#url; }
    get method() { return this.#method; }
    get headers() { return this.#headers; }
    get signal() {
      if (this.#signal === null) this.#signal = new AbortController().signal;
      return this.#signal;
    }
    get redirect() { return 'follow'; }

    clone() {
      const bytes = cloneBody(this);
      // The copy shares the signal, made now if it was not yet.
      const copy = new Request(this.#url, { method: this.#method, headers: this.#headers, signal: this.signal });
      adoptBody(copy, bytes);
      return copy;
    }

    static {
      requestParts = (request) => ({ url: request.#url, method: request.#method, headers: request.#headers, signal: request.#signal });
      isRequest = (value) => #url in value;
    }
  }

  defineTag(Request);
  install('Request', Request);

  // ---- Response -----------------------------------------------------------

  const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];
  const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
  const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

  let fetchedResponse;

  class Response extends Body {
    #type;
    #url;
    #redirected;
    #status;
    #statusText;
    // A Headers, or the header list of immutable headers not asked for
    // yet (a fetched response's, error()'s and redirect()'s): the Headers
    // is made on first access.
    #headers;

    constructor(body = null, init = undefined) {
      // #make's blank response, filled in by it (INTERNAL is private).
      if (body === INTERNAL) {
        super(null);
        return;
      }
      const extracted = extractBody(body);
      super(extracted !== null ? extracted.bytes : null);
      this.#initialize(init, extracted);
    }

    // "Initialize a response" from a ResponseInit and an extracted body.
    #initialize(init, extracted) {
      const options = dictionary(init, 'ResponseInit');
      const status = options.status === undefined ? 200 : Math.trunc(Number(options.status));
      if (!(status >= 200 && status <= 599)) throw new RangeError(`Response: status ${options.status} is not in the range 200 to 599`);
      const statusText = options.statusText === undefined ? '' : String(options.statusText);
      if (statusText !== '' && !REASON_PHRASE.test(statusText)) throw new TypeError('Response: invalid statusText');
      const headers = headerList(options.headers);
      if (extracted !== null && NULL_BODY_STATUSES.includes(status)) throw new TypeError(`Response: a ${status} response cannot have a body`);
      setDefaultContentType(headers, extracted);
      this.#type = 'default';
      this.#url = '';
      this.#redirected = false;
      this.#status = status;
      this.#statusText = statusText;
      this.#headers = headersOf(headers, false);
    }

    // A response made by this file, skipping the checks on scripts' input.
    static #make(bytes, type, url, redirected, status, statusText, headers) {
      const response = new Response(INTERNAL);
      adoptBody(response, bytes);
      response.#type = type;
      response.#url = url;
      response.#redirected = redirected;
      response.#status = status;
      response.#statusText = statusText;
      response.#headers = headers;
      return response;
    }

    static error() {
      return Response.#make(null, 'error', '', false, 0, '', []);
    }

    static redirect(url, status = 302) {
      const location = absoluteUrl(url, 'Response.redirect').href;
      const code = Math.trunc(Number(status));
      if (!REDIRECT_STATUSES.includes(code)) throw new RangeError(`Response.redirect: ${status} is not a redirect status`);
      return Response.#make(null, 'default', '', false, code, '', [['location', location]]);
    }

    static json(data, init = undefined) {
      const text = stringifyJson(data);
      if (text === undefined) throw new TypeError('Response.json: the data cannot be serialized to JSON');
      const extracted = { bytes: native.utf8Encode(text), type: 'application/json' };
      const response = new Response();
      adoptBody(response, extracted.bytes);
      response.#initialize(init, extracted);
      return response;
    }

    get type() { return this.#type; }
    get url() { return this.#url; }
    get redirected() { return this.#redirected; }
    get status() { return this.#status; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get statusText() { return this.#statusText; }
    get headers() {
      const headers = this.#headers;
      return isArray(headers) ? (this.#headers = headersOf(headers, true)) : headers;
    }

    clone() {
      const headers = this.#headers;
      return Response.#make(cloneBody(this), this.#type, this.#url, this.#redirected, this.#status, this.#statusText,
        isArray(headers) ? headers.slice() : copyHeaders(headers));
    }

    static {
      // The response to a fetch, from the host's parts of it (a number, two
      // strings, a boolean, the header list and an ArrayBuffer).
      fetchedResponse = (status, statusText, url, redirected, headers, body) =>
        Response.#make(NULL_BODY_STATUSES.includes(status) ? null : body, 'basic', url, redirected, status, statusText, headers);
    }
  }

  defineTag(Response);
  install('Response', Response);

  // ---- fetch --------------------------------------------------------------

  // Requests in flight, by handle: { resolve, reject, stop } until settled.
  const pending = new Map();

  function fetch(input, init = undefined) {
    return new Promise((resolve, reject) => {
      // The request is not made as an object: only its checked parts.
      const { url, method, headers, signal, body } = requestFrom(input, init);
      if (signal !== null) {
        const before = abortState(signal);
        if (before.aborted) throw before.reason;
      }
      const handle = native.fetchStart(method, url, sortAndCombine(headers), body !== null ? body : undefined);
      const stop = signal === null ? noop : onAbort(signal, () => {
        native.fetchCancel(handle);
        finish(handle).reject(abortState(signal).reason);
      });
      pending.set(handle, { resolve, reject, stop });
    });
  }

  function noop() {}

  // The waiter for `handle`, taken out of `pending`; undefined if not there.
  function finish(handle) {
    const waiter = pending.get(handle);
    if (waiter !== undefined) {
      pending.delete(handle);
      waiter.stop();
    }
    return waiter;
  }

  shared.fetchHandles = () => [...pending.keys()];

  // A request finished with a response, given in parts (see
  // fetchedResponse). Requests aborted meanwhile are no longer in `pending`.
  shared.deliver = (handle, status, statusText, url, redirected, headers, body) => {
    const waiter = finish(handle);
    if (waiter === undefined) return;
    try {
      waiter.resolve(fetchedResponse(status, statusText, url, redirected, headers, body));
    } catch (error) {
      waiter.reject(error);
    }
  };

  // A request failed, for `reason`.
  shared.fail = (handle, reason) => {
    const waiter = finish(handle);
    if (waiter !== undefined) waiter.reject(new TypeError(`fetch failed: ${reason}`));
  };

  install('fetch', fetch);
})
