// The runtime's core, evaluated once per script when it is loaded (so it is
// part of every run's snapshot): `console`, the errors that end a run with a
// kind, the script's environment variables, and the driver `lib.rs` calls.
//
// Every prelude file is one function of `native` (the Rust side: natives.rs
// and web.rs) and `shared` (what the prelude files give each other). Nothing
// here is reachable from a script except the globals it installs.
(function (native, shared) {
  'use strict';

  // ---- console ----------------------------------------------------------

  const MAX_LOG_CHARS = 16384;
  // Captured now, like every intrinsic the driver relies on: a script that
  // replaces `JSON.stringify` changes only its own view, never a log record
  // or the claims' JSON.
  const stringifyJson = JSON.stringify;
  const LEVELS = { debug: 0, info: 1, log: 2, warn: 3, error: 4 };

  function describe(value) {
    if (typeof value === 'string') return value;
    if (value === undefined) return 'undefined';
    if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
    if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : `${value.name}: ${value.message}`;
    if (value === null || typeof value !== 'object') return String(value);
    try {
      return stringifyJson(value, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
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
  shared.logError = (message) => native.log(LEVELS.error, message);

  // ---- errors that end a run with a specific kind -----------------------

  // `lib.rs` asks `driver.errorKind` for the kind of a thrown value. The kind
  // is a private field, and only this file holds the token the constructor
  // asks for: a script can neither make an object with a kind nor construct
  // one through a caught error's `constructor`, so it cannot pass its own
  // errors off as the runtime's.
  const TOKEN = Symbol('runtime error');
  class ClaimscriptError extends Error {
    #kind;
    constructor(token, kind, message) {
      if (token !== TOKEN) throw new TypeError('Illegal constructor');
      super(message);
      this.#kind = kind;
    }
    static kindOf(value) {
      return value !== null && typeof value === 'object' && #kind in value ? value.#kind : undefined;
    }
  }
  // An error that ends the run with `kind` (invalid_output, missing_function,
  // unsupported).
  shared.runtimeError = (kind, message) => new ClaimscriptError(TOKEN, kind, message);
  shared.unsupported = (what) => shared.runtimeError('unsupported', what);

  // Captured now, like every intrinsic the driver relies on: a script that
  // replaces them changes only its own view.
  const { getPrototypeOf } = Object;
  const ObjectPrototype = Object.prototype;

  function isPlainObject(value) {
    if (value === null || typeof value !== 'object') return false;
    const proto = getPrototypeOf(value);
    return proto === ObjectPrototype || proto === null;
  }
  shared.isPlainObject = isPlainObject;

  // What a style's `run` returns. It has no prototype: resolving a promise
  // with it looks up `then`, and lib.rs reads its fields, and neither may
  // reach a getter a script put on Object.prototype.
  shared.result = (access, id, scopesAdded, scopesRemoved) => {
    const result = Object.create(null);
    result.access = access;
    result.id = id;
    result.scopesAdded = scopesAdded;
    result.scopesRemoved = scopesRemoved;
    return result;
  };

  shared.kindOf = function kindOf(value) {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'object') return `an instance of ${(value.constructor && value.constructor.name) || 'a class'}`;
    return `a ${typeof value}`;
  };

  // ---- environment variables --------------------------------------------

  // A read-only view: each read asks the host, which records the names read
  // (never the values). Made once, in the snapshot: every run starts from
  // it, so nothing made here outlives a run.
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
  shared.environment = environmentVariables();

  // ---- the driver -------------------------------------------------------

  let style;
  let entries;
  // The run's input and result stay referenced until the instance is thrown
  // away: freeing them object by object would be work for nothing. A
  // null-prototype object, so that storing in it runs no setter a script
  // put on a prototype.
  const keep = Object.create(null);
  let kept = 0;

  shared.driver = {
    // A CommonJS script (Auth0, LoginRadius): run its body with `exports`,
    // `require` and `module`, and return what it exported.
    commonJs(body) {
      const module = { exports: {} };
      body.call(module.exports, module.exports, shared.require, module);
      return module.exports;
    },
    // The script is evaluated: check it defines what its style needs.
    setScript(name, found) {
      style = shared.styles[name];
      entries = style.check(found);
      return Object.keys(entries);
    },
    // One run: the style calls the script and gives back
    // `{ access, id, scopesAdded, scopesRemoved }`, a null-prototype object
    // (see `shared.result`).
    async run(kind, argument) {
      keep[kept++] = argument;
      const result = await style.run(entries, kind, argument);
      keep[kept++] = result;
      return result;
    },
    // The kind of an error the runtime raised on purpose, else undefined.
    errorKind: (value) => ClaimscriptError.kindOf(value),
    // The claims' JSON when the runtime's own writer declines (output.rs):
    // the intrinsic captured at load, never the script's global.
    stringify(claims) {
      let json;
      try {
        json = stringifyJson(claims);
      } catch (e) {
        throw shared.runtimeError('invalid_output', `the claims are not JSON: ${e && e.message}`);
      }
      if (typeof json !== 'string') {
        throw shared.runtimeError('invalid_output', 'the claims are not JSON: their toJSON gave nothing to write');
      }
      return json;
    },
    fetchHandles: () => shared.fetchHandles(),
    deliver: (handle, status, statusText, url, redirected, headers, body) =>
      shared.deliver(handle, status, statusText, url, redirected, headers, body),
    fail: (handle, reason) => shared.fail(handle, reason),
    nextTimerDelay: () => shared.nextTimerDelay(),
    fireTimers: () => shared.fireTimers(),
  };
})
