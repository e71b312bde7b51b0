// The script's world, built once per script at pre-initialisation time.
//
// This function receives `native` (the Rust host calls, see `natives.rs`) and
// returns the driver that `lib.rs` calls: `setEntry`, `run` and `deliver`.
// Nothing here is reachable from the script except the globals it installs
// (`console`, `fetch`, `Headers`, `Response`).
(function (native) {
  'use strict';

  const MAX_LOG_CHARS = 16384;
  const LEVELS = { debug: 0, info: 1, log: 2, warn: 3, error: 4 };

  // ---- console ----------------------------------------------------------

  function describe(value, seen) {
    if (typeof value === 'string') return value;
    if (value === undefined) return 'undefined';
    if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
    if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : `${value.name}: ${value.message}`;
    if (value === null || typeof value !== 'object') return String(value);
    try {
      return JSON.stringify(value, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    } catch (_) {
      return Object.prototype.toString.call(value);
    }
  }

  function format(args) {
    let out = '';
    for (let i = 0; i < args.length; i++) {
      if (i) out += ' ';
      out += describe(args[i]);
      if (out.length > MAX_LOG_CHARS) break;
    }
    return out.length > MAX_LOG_CHARS ? out.slice(0, MAX_LOG_CHARS) : out;
  }

  const consoleObject = {};
  for (const level of Object.keys(LEVELS)) {
    const id = LEVELS[level];
    consoleObject[level] = function (...args) { native.log(id, format(args)); };
  }
  consoleObject.trace = consoleObject.debug;
  Object.defineProperty(globalThis, 'console', { value: Object.freeze(consoleObject), writable: true, configurable: true });

  // ---- errors that end a run with a specific kind -----------------------

  class ClaimscriptError extends Error {
    constructor(kind, message) {
      super(message);
      this.claimscriptKind = kind;
    }
  }

  class AccessDeniedError extends Error {
    constructor(message) {
      super(message);
      this.name = 'AccessDeniedError';
    }
  }

  // ---- Headers / Response / fetch ---------------------------------------

  const FORBIDDEN_NAME = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;

  function normaliseName(name) {
    name = String(name);
    if (name === '' || FORBIDDEN_NAME.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
    return name.toLowerCase();
  }

  function normaliseValue(value) {
    value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (/[\0\r\n]/.test(value)) throw new TypeError('Invalid header value');
    return value;
  }

  class Headers {
    #map = new Map();
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        init.forEach((v, k) => this.append(k, v));
      } else if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const entry = Array.from(pair);
          if (entry.length !== 2) throw new TypeError('Header pairs must have exactly two items');
          this.append(entry[0], entry[1]);
        }
      } else if (typeof init === 'object') {
        for (const key of Object.keys(init)) this.append(key, init[key]);
      } else {
        throw new TypeError('Headers init must be an object, an iterable of pairs or Headers');
      }
    }
    append(name, value) {
      const key = normaliseName(name);
      const v = normaliseValue(value);
      const old = this.#map.get(key);
      this.#map.set(key, old === undefined ? v : `${old}, ${v}`);
    }
    set(name, value) { this.#map.set(normaliseName(name), normaliseValue(value)); }
    get(name) { const v = this.#map.get(normaliseName(name)); return v === undefined ? null : v; }
    has(name) { return this.#map.has(normaliseName(name)); }
    delete(name) { this.#map.delete(normaliseName(name)); }
    forEach(callback, thisArg) { for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this); }
    *entries() { yield* [...this.#map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'Headers'; }
  }

  function utf8Decode(bytes) {
    return native.utf8Decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  function bodyBytes(body) {
    if (body === undefined || body === null) return undefined;
    if (typeof body === 'string') return native.utf8Encode(body);
    if (body instanceof ArrayBuffer) return body.slice(0);
    if (ArrayBuffer.isView(body)) return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    if (typeof URLSearchParams === 'function' && body instanceof URLSearchParams) return native.utf8Encode(body.toString());
    throw new TypeError('fetch body must be a string, an ArrayBuffer, a typed array or URLSearchParams');
  }

  class Response {
    #bytes;
    #used = false;
    constructor(body, init = {}) {
      const bytes = bodyBytes(body);
      this.#bytes = bytes === undefined ? new ArrayBuffer(0) : bytes;
      this.status = init.status === undefined ? 200 : Number(init.status);
      this.statusText = init.statusText === undefined ? '' : String(init.statusText);
      this.headers = new Headers(init.headers);
      this.url = init.url === undefined ? '' : String(init.url);
      this.redirected = Boolean(init.redirected);
    }
    get ok() { return this.status >= 200 && this.status <= 299; }
    get bodyUsed() { return this.#used; }
    #consume() {
      if (this.#used) return Promise.reject(new TypeError('Body has already been consumed'));
      this.#used = true;
      return Promise.resolve(this.#bytes);
    }
    arrayBuffer() { return this.#consume().then((b) => b.slice(0)); }
    text() { return this.#consume().then((b) => utf8Decode(new Uint8Array(b))); }
    json() { return this.text().then((t) => JSON.parse(t)); }
  }

  const pending = new Map();

  function fetch(input, init = {}) {
    return new Promise((resolve, reject) => {
      let url = input;
      if (input !== null && typeof input === 'object' && 'url' in input) url = input.url;
      url = String(url);
      const method = String(init.method || (input && input.method) || 'GET').toUpperCase();
      const headers = new Headers(init.headers || (input && typeof input === 'object' ? input.headers : undefined));
      const pairs = [...headers.entries()];
      const body = bodyBytes(init.body);
      if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
        throw new TypeError(`A ${method} request cannot have a body`);
      }
      const handle = native.fetchStart(method, url, pairs, body);
      pending.set(handle, { resolve, reject });
    });
  }

  function deliver(handle, ok, payload) {
    const waiter = pending.get(handle);
    if (!waiter) return;
    pending.delete(handle);
    if (!ok) {
      waiter.reject(new TypeError(`fetch failed: ${payload}`));
      return;
    }
    waiter.resolve(new Response(payload.body, {
      status: payload.status,
      statusText: payload.statusText,
      headers: payload.headers,
      url: payload.url,
      redirected: payload.redirected,
    }));
  }

  for (const [name, value] of Object.entries({ fetch, Headers, Response })) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }

  // ---- the script's arguments -------------------------------------------

  function environmentVariables() {
    const target = Object.create(null);
    const read = (name) => (typeof name === 'string' ? native.envGet(name) : undefined);
    return new Proxy(target, {
      get: (_, name) => read(name),
      has: (_, name) => read(name) !== undefined,
      ownKeys: () => native.envNames(),
      getOwnPropertyDescriptor: (_, name) => {
        const value = read(name);
        return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    });
  }

  // The run's `environmentVariables` and `api` are made once, in the snapshot:
  // every run starts from it, so nothing made here outlives a run.
  const environment = environmentVariables();
  const api = Object.freeze({ denyAccess });

  function denyAccess(message) {
    const text = message === undefined ? 'Access denied' : String(message);
    native.deny(text, undefined, undefined);
    throw new AccessDeniedError(text);
  }

  function isPlainObject(value) {
    if (value === null || typeof value !== 'object') return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  }

  function kindOf(value) {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'object') return `an instance of ${(value.constructor && value.constructor.name) || 'a class'}`;
    return `a ${typeof value}`;
  }

  let entry;
  // The run's input and result stay referenced until the instance is thrown
  // away: freeing them object by object would be work for nothing.
  const keep = [];

  // QuickJS creates a builtin method the first time it is read. Read them
  // all now, so that they are in the snapshot instead of being created
  // again by every run that uses them.
  function warmBuiltins() {
    const seen = new Set();
    const visit = (value, depth) => {
      if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
      if (seen.has(value) || depth > 3) return;
      seen.add(value);
      for (const key of Reflect.ownKeys(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key);
        if (descriptor && 'value' in descriptor) visit(descriptor.value, depth + 1);
      }
      visit(Object.getPrototypeOf(value), depth + 1);
    };
    visit(globalThis, 0);
    for (const hidden of [async function () {}, function* () {}, async function* () {}, [][Symbol.iterator](), new Map().entries(), new Set().values(), ''[Symbol.iterator](), /x/[Symbol.matchAll]('')]) {
      visit(Object.getPrototypeOf(hidden), 1);
    }
  }

  return {
    warmBuiltins,
    setEntry(fn) { entry = fn; },
    async run(kind, payload) {
      keep.push(payload);
      payload.environmentVariables = environment;
      payload.api = api;
      const result = await entry(payload);
      keep.push(result);
      if (!isPlainObject(result)) {
        throw new ClaimscriptError('invalid_output', `getCustomJwtClaims must return a plain object, got ${kindOf(result)}`);
      }
      return result;
    },
    // The claims' JSON when the runtime's own writer declines (output.rs).
    stringify(result) {
      try {
        return JSON.stringify(result);
      } catch (e) {
        throw new ClaimscriptError('invalid_output', `the returned claims are not JSON: ${e && e.message}`);
      }
    },
    deliver,
    hasPending() { return pending.size > 0; },
    pendingHandles() { return [...pending.keys()]; },
  };
})
