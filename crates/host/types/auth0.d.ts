
// ==== Auth0 Actions style ==================================================
//
// The script is an Auth0 Action (CommonJS): it exports `onExecutePostLogin`
// (run for user access tokens) and/or `onExecuteCredentialsExchange` (run
// for machine-to-machine tokens):
//
//   /** @type {OnExecutePostLogin} */
//   exports.onExecutePostLogin = async (event, api) => {
//     api.accessToken.setCustomClaim('https://example.com/roles', event.authorization.roles);
//   };
//
// Only the part of Auth0's `event` and `api` that Claimscript provides is
// declared: the other members of Auth0's `api` (authentication, multifactor,
// redirect, user, cache, session, ...) throw an `unsupported` error at run
// time, so your editor flags them. The API methods return nothing (no
// chaining).

/** The application the token is issued to. */
interface Auth0Client {
  /** The client id; absent when the input names no application or client. */
  client_id?: string;
  /** The application's name, when the input has the application. */
  name?: string;
  /** The application's custom data (`{}` when none). */
  metadata: Record<string, any>;
}

/** The API the token is for. */
interface Auth0ResourceServer {
  /** The API's identifier: the token's audience (the first one when there are several); absent without one. */
  identifier?: string;
}

/** The token request. */
interface Auth0Transaction {
  /** The scopes requested (the token's scopes). */
  requested_scopes: string[];
}

/** The HTTP request, when the embedder passes one (`{}` otherwise). */
interface Auth0Request {
  /** The client's IP address. */
  ip?: string;
  /** The client's User-Agent header. */
  user_agent?: string;
  /** The client's preferred language. */
  language?: string;
  /** The host name the request was sent to. */
  hostname?: string;
}

/** A linked identity of the user. */
interface Auth0UserIdentity {
  /** The identity provider (e.g. `github`). */
  provider: string;
  /** The connection: the same as `provider`. */
  connection: string;
  /** The user's id at the provider. */
  user_id: string;
}

/** The user signing in. Fields the identity server does not have are absent. */
interface Auth0User {
  /** The user's id. */
  user_id: string;
  username?: string;
  /** The primary email address. */
  email?: string;
  /** Present (true) when `email` is. */
  email_verified?: boolean;
  /** The primary phone number. */
  phone_number?: string;
  /** The display name. */
  name?: string;
  /** The profile's nickname, else the username, else the name. */
  nickname?: string;
  /** Given (first) name. */
  given_name?: string;
  /** Surname. */
  family_name?: string;
  /** The URL of the user's picture. */
  picture?: string;
  /** ISO 8601; absent when the input has no creation time. */
  created_at?: string;
  /** ISO 8601; absent when the input has no update time. */
  updated_at?: string;
  /** ISO 8601; absent before the first sign-in. */
  last_login?: string;
  /** The user's custom data. */
  app_metadata: Record<string, any>;
  /** Always `{}`. */
  user_metadata: Record<string, any>;
  /** The user's linked identities. */
  identities: Auth0UserIdentity[];
  /** The MFA factors the user has set up; absent when the input does not say. */
  multifactor?: string[];
}

/** The user's authorization. */
interface Auth0Authorization {
  /** The names of the user's roles. */
  roles: string[];
}

/** The organization the token is for. */
interface Auth0Organization {
  /** The organization's id. */
  id: string;
  /** The organization's name. */
  name: string;
  /** The same as `name`. */
  display_name: string;
  /** The organization's custom data (`{}` when none). */
  metadata: Record<string, any>;
}

/** The secrets (the environment variables the grants expose). Read-only. */
type Auth0Secrets = Readonly<Record<string, string | undefined>>;

/** The `event` of `onExecutePostLogin` (a user access token). */
interface PostLoginEvent {
  /** The application the token is issued to. */
  client: Auth0Client;
  /** The API the token is for. */
  resource_server: Auth0ResourceServer;
  /** The requested scopes. */
  transaction: Auth0Transaction;
  /** The HTTP request (`{}` when the embedder passes none). */
  request: Auth0Request;
  /** The provider's hook request, when a provider hook runs the script (a Claimscript addition). */
  hook?: ProviderHook;
  /** The user signing in. */
  user: Auth0User;
  /** The user's roles. */
  authorization: Auth0Authorization;
  /** Present when the token is for an organization. */
  organization?: Auth0Organization;
  /** `event.secrets.NAME`: the environment variables the grants expose. */
  secrets: Auth0Secrets;
}

/** The `api` of `onExecutePostLogin`. */
interface PostLoginApi {
  /** Access control. */
  access: {
    /**
     * Denies the login: no token is issued and the client gets an
     * `access_denied` error with `reason` (default `"Access denied"`). The
     * script goes on running; its claims are discarded.
     */
    deny(reason?: string): void;
  };
  /** The access token. */
  accessToken: {
    /** Sets claim `name` of the access token (`value` is serialised as JSON). */
    setCustomClaim(name: string, value: unknown): void;
    /** Adds `scope` (no spaces) to the token's scopes. */
    addScope(scope: string): void;
    /** Removes `scope` (no spaces) from the token's scopes. */
    removeScope(scope: string): void;
  };
  /** The ID token. */
  idToken: {
    /** Sets claim `name` of the ID token (`value` is serialised as JSON). */
    setCustomClaim(name: string, value: unknown): void;
  };
}

/** The `event` of `onExecuteCredentialsExchange` (a machine-to-machine token). */
interface CredentialsExchangeEvent {
  /** The application that authenticated. */
  client: Auth0Client;
  /** The API the token is for. */
  resource_server: Auth0ResourceServer;
  /** The requested scopes. */
  transaction: Auth0Transaction;
  /** The HTTP request (`{}` when the embedder passes none). */
  request: Auth0Request;
  /** The provider's hook request, when a provider hook runs the script (a Claimscript addition). */
  hook?: ProviderHook;
  /** The access token being issued. */
  accessToken: {
    /** The token's scopes. */
    scope: string[];
    /** Always `{}`: the claims set so far. */
    customClaims: Record<string, unknown>;
  };
  /** `event.secrets.NAME`: the environment variables the grants expose. */
  secrets: Auth0Secrets;
}

/** The error codes `api.access.deny` takes in a credentials exchange. */
type CredentialsExchangeDenyCode = 'invalid_scope' | 'invalid_request' | 'server_error';

/** The `api` of `onExecuteCredentialsExchange`. */
interface CredentialsExchangeApi {
  /** Access control. */
  access: {
    /**
     * Denies the token request with an OAuth error `code` and `reason`
     * (default `"Access denied"`). The script goes on running; its claims
     * are discarded.
     *
     * @throws TypeError for any other code.
     */
    deny(code: CredentialsExchangeDenyCode, reason?: string): void;
  };
  /** The access token. */
  accessToken: {
    /** Sets claim `name` of the access token (`value` is serialised as JSON). */
    setCustomClaim(name: string, value: unknown): void;
  };
}

/** The type of `exports.onExecutePostLogin`, run for user access tokens. */
type OnExecutePostLogin = (event: PostLoginEvent, api: PostLoginApi) => Promise<void> | void;

/** The type of `exports.onExecuteCredentialsExchange`, run for machine-to-machine tokens. */
type OnExecuteCredentialsExchange = (event: CredentialsExchangeEvent, api: CredentialsExchangeApi) => Promise<void> | void;

/** What an Auth0 Action exports: one trigger or both. */
interface Auth0ActionExports {
  /** Run for user access tokens. */
  onExecutePostLogin?: OnExecutePostLogin;
  /** Run for machine-to-machine tokens. */
  onExecuteCredentialsExchange?: OnExecuteCredentialsExchange;
}

/** The script's exports: `exports.onExecutePostLogin = async (event, api) => { ... }`. */
declare var exports: Auth0ActionExports;

/** The CommonJS module: `module.exports` is the script's exports. */
declare var module: { exports: Auth0ActionExports };

/**
 * Loads a package: only `'axios'` (a shim over `fetch`) is available; any
 * other name fails with an `unsupported` error.
 */
declare function require(name: 'axios'): Axios;

/** The axios shim, as `require('axios')` returns it. */
declare module 'axios' {
  const axios: Axios;
  export = axios;
}
