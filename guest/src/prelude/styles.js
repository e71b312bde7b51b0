// The three calling conventions a script can follow. Each style has `check(found)`, which takes what the script
// defined and returns its entry functions (or throws `missing_function`),
// and `run(entries, kind, argument)`, which calls the script and returns
// `{ access, id, scopesAdded, scopesRemoved }`: the access-token claims, the
// ID-token claims (undefined when none were set) and scope changes.
//
// The argument (Logto's `{token, context}`, Auth0's `event`, LoginRadius's
// `lrObject`) is built by the host from the run's input; secrets and the
// APIs are added here.
(function (native, shared) {
  'use strict';

  const { runtimeError, isPlainObject, kindOf, unsupported, environment, result } = shared;

  const missing = (message) => runtimeError('missing_function', message);

  class AccessDeniedError extends Error {
    constructor(message) {
      super(message);
      this.name = 'AccessDeniedError';
    }
  }

  // Claims set one at a time (Auth0's and LoginRadius's `setCustomClaim`),
  // into null-prototype objects: every name is a claim, `__proto__` too.
  function claimsRecorder() {
    const access = Object.create(null);
    let id;
    const scopesAdded = [];
    const scopesRemoved = [];
    const claimName = (name) => {
      if (typeof name !== 'string' || name === '') {
        throw new TypeError('setCustomClaim(name, value): the name must be a non-empty string');
      }
      return name;
    };
    const scopeName = (scope) => {
      if (typeof scope !== 'string' || scope === '' || /\s/.test(scope)) {
        throw new TypeError('the scope must be a non-empty string without spaces');
      }
      return scope;
    };
    return {
      setAccess(name, value) { access[claimName(name)] = value; },
      setId(name, value) { (id || (id = Object.create(null)))[claimName(name)] = value; },
      addScope(scope) {
        scope = scopeName(scope);
        const i = scopesRemoved.indexOf(scope);
        if (i >= 0) scopesRemoved.splice(i, 1);
        if (!scopesAdded.includes(scope)) scopesAdded.push(scope);
      },
      removeScope(scope) {
        scope = scopeName(scope);
        const i = scopesAdded.indexOf(scope);
        if (i >= 0) scopesAdded.splice(i, 1);
        if (!scopesRemoved.includes(scope)) scopesRemoved.push(scope);
      },
      result() { return result(access, id, scopesAdded, scopesRemoved); },
    };
  }

  // An API object whose members outside the supported set throw
  // `unsupported` when used, naming what is supported instead.
  function api(members, unsupportedNames, supported) {
    const object = {};
    for (const [name, value] of Object.entries(members)) {
      object[name] = Object.freeze(value);
    }
    for (const name of unsupportedNames) {
      Object.defineProperty(object, name, {
        get() {
          throw unsupported(`api.${name} is not supported by Claimscript (supported: ${supported})`);
        },
        enumerable: false,
      });
    }
    return Object.freeze(object);
  }

  // ---- Logto ------------------------------------------------------------

  const logtoApi = Object.freeze({
    denyAccess(message) {
      const text = message === undefined ? 'Access denied' : String(message);
      native.deny(text, undefined, undefined);
      throw new AccessDeniedError(text);
    },
  });

  const logto = {
    check(found) {
      if (typeof found.getCustomJwtClaims !== 'function') {
        throw missing('the script does not define a function named `getCustomJwtClaims` '
          + '(declare it with const/let/var, as a function, or export it)');
      }
      return { getCustomJwtClaims: found.getCustomJwtClaims };
    },
    async run(entries, kind, payload) {
      payload.environmentVariables = environment;
      payload.api = logtoApi;
      const claims = await entries.getCustomJwtClaims(payload);
      if (!isPlainObject(claims)) {
        throw runtimeError('invalid_output', `getCustomJwtClaims must return a plain object, got ${kindOf(claims)}`);
      }
      return result(claims, undefined, [], []);
    },
  };

  // ---- Auth0 Actions ----------------------------------------------------

  const AUTH0_TRIGGERS = {
    AccessToken: 'onExecutePostLogin',
    ClientCredentials: 'onExecuteCredentialsExchange',
  };
  // Members of Auth0's `api` objects that Claimscript does not provide: the
  // list lib.rs also checks the source against.
  const AUTH0_POST_LOGIN_UNSUPPORTED = native.auth0Unsupported;
  const AUTH0_M2M_DENY_CODES = Object.freeze(['invalid_scope', 'invalid_request', 'server_error']);

  function postLoginApi(recorder) {
    return api({
      access: {
        deny(reason) {
          native.deny(reason === undefined ? 'Access denied' : String(reason), undefined, undefined);
        },
      },
      accessToken: {
        setCustomClaim: recorder.setAccess,
        addScope: recorder.addScope,
        removeScope: recorder.removeScope,
      },
      idToken: { setCustomClaim: recorder.setId },
    }, AUTH0_POST_LOGIN_UNSUPPORTED, 'api.access.deny, api.accessToken.setCustomClaim/addScope/removeScope, api.idToken.setCustomClaim');
  }

  function credentialsExchangeApi(recorder) {
    return api({
      access: {
        deny(code, reason) {
          // Compared one by one: a script may have replaced Array.prototype.includes.
          if (code !== AUTH0_M2M_DENY_CODES[0] && code !== AUTH0_M2M_DENY_CODES[1] && code !== AUTH0_M2M_DENY_CODES[2]) {
            throw new TypeError(`api.access.deny(code, reason): code must be one of ${AUTH0_M2M_DENY_CODES.join(', ')}`);
          }
          native.deny(reason === undefined ? 'Access denied' : String(reason), code, undefined);
        },
      },
      accessToken: { setCustomClaim: recorder.setAccess },
    }, ['cache', 'idToken'], 'api.access.deny, api.accessToken.setCustomClaim; a client-credentials token has no ID token');
  }

  const auth0 = {
    check(found) {
      const entries = {};
      for (const name of Object.values(AUTH0_TRIGGERS)) {
        if (typeof found[name] === 'function') entries[name] = found[name];
      }
      if (Object.keys(entries).length === 0) {
        throw missing('the Auth0 script exports neither onExecutePostLogin nor onExecuteCredentialsExchange '
          + '(exports.onExecutePostLogin = async (event, api) => { ... })');
      }
      return entries;
    },
    async run(entries, kind, event) {
      const trigger = AUTH0_TRIGGERS[kind];
      if (!entries[trigger]) {
        const token = kind === 'AccessToken' ? 'a user access token' : 'a client-credentials token';
        throw missing(`the Auth0 script does not export ${trigger}, which runs for ${token}`);
      }
      const recorder = claimsRecorder();
      event.secrets = environment;
      const actionApi = kind === 'AccessToken' ? postLoginApi(recorder) : credentialsExchangeApi(recorder);
      await entries[trigger](event, actionApi);
      return recorder.result();
    },
  };

  // ---- LoginRadius Identity Orchestration ----------------------------------

  const loginradius = {
    check(found) {
      if (typeof found.execute !== 'function') {
        throw missing('the LoginRadius script does not export execute '
          + '(exports.execute = async (lrObject, hook) => { ... })');
      }
      return { execute: found.execute };
    },
    async run(entries, kind, lrObject) {
      const recorder = claimsRecorder();
      const hook = Object.freeze({
        accessToken: Object.freeze({ setCustomClaim: recorder.setAccess }),
        idToken: Object.freeze({ setCustomClaim: recorder.setId }),
        // Blocks issuance like a denial, keeping LoginRadius's code and title.
        setError(code, title, message) {
          const text = message ?? title ?? 'Access denied';
          native.deny(String(text), code == null ? undefined : String(code), title == null ? undefined : String(title));
        },
        // Not LoginRadius's: the run's environment variables, for API keys.
        secrets: environment,
      });
      await entries.execute(lrObject, hook);
      return recorder.result();
    },
  };

  shared.styles = { logto, auth0, loginradius };
})
