
// ==== LoginRadius style ====================================================
//
// The script is a LoginRadius Identity Orchestration script (CommonJS): it
// exports `execute`, called with the user's profile and the `hook` that sets
// claims:
//
//   /** @type {Execute} */
//   exports.execute = async (lrObject, hook) => {
//     hook.accessToken.setCustomClaim('roles', lrObject.Roles);
//   };

/** An email address of the user. */
interface LrEmail {
  /** Always `"Primary"`: the user's primary email. */
  Type: 'Primary';
  /** The address. */
  Value: string;
}

/** A linked identity of the user. */
interface LrIdentity {
  /** The identity provider (e.g. `github`). */
  Provider: string;
  /** The user's id at the provider. */
  ID: string;
}

/** The HTTP request, when the embedder passes one. */
interface LrRequest {
  /** The client's IP address. */
  IP?: string;
  /** The client's User-Agent header. */
  UserAgent?: string;
  /** The client's preferred language. */
  Language?: string;
}

/**
 * `lrObject`: the user's profile. Fields the identity server does not have
 * are absent (never null). For a machine-to-machine token there is no user:
 * only `EmailVerified` (false), `Email` (empty), `ClientId` and `Request`
 * are set.
 */
interface LrObject {
  /** The user's id. */
  Uid: string;
  /** The user's id (the same as `Uid`). */
  ID: string;
  UserName?: string;
  /** Given (first) name. */
  FirstName?: string;
  MiddleName?: string;
  /** Surname. */
  LastName?: string;
  /** The display name. */
  FullName?: string;
  NickName?: string;
  /** Whether the user has a (verified) primary email. */
  EmailVerified: boolean;
  /** The primary email, or an empty list. */
  Email: LrEmail[];
  /** The primary phone number. */
  PhoneId?: string;
  /** The URL of the user's picture. */
  ImageUrl?: string;
  /** ISO 8601 `YYYY-MM-DD`. */
  BirthDate?: string;
  Gender?: string;
  /** The country of the user's address. */
  Country?: { Code: string };
  /** The names of the user's roles; absent when the input has none. */
  Roles?: string[];
  /** The user's custom data; absent when the input has none. */
  CustomFields?: Record<string, any>;
  /** False when the user is suspended; absent when the input does not say. */
  IsActive?: boolean;
  /** ISO 8601; absent when the input has no creation time. */
  CreatedDate?: string;
  /** ISO 8601; absent when the input has no update time. */
  ModifiedDate?: string;
  /** ISO 8601; absent before the first sign-in. */
  LastLoginDate?: string;
  /** The user's linked identities. */
  Identities: LrIdentity[];
  /** The client (application) the token is issued to. */
  ClientId?: string;
  /** The HTTP request, when the embedder passes one. */
  Request?: LrRequest;
  /** The provider's hook request, when a provider hook runs the script (a Claimscript addition). */
  Hook?: ProviderHook;
}

/** `hook`: sets the tokens' claims or refuses the login. */
interface LrHook {
  /** The access token. */
  accessToken: {
    /** Sets claim `name` of the access token (`value` is serialised as JSON). */
    setCustomClaim(name: string, value: unknown): void;
  };
  /** The ID token. */
  idToken: {
    /** Sets claim `name` of the ID token (`value` is serialised as JSON). */
    setCustomClaim(name: string, value: unknown): void;
  };
  /**
   * Refuses the login: no token is issued, and the client gets an error
   * with `code`, `title` and `message` (the message defaults to the title,
   * then to `"Access denied"`). The script goes on running; its claims are
   * discarded.
   */
  setError(code: string | number, title: string, message?: string): void;
  /**
   * The environment variables the grants expose, for API keys. Read-only.
   * A Claimscript addition: LoginRadius has no `hook.secrets`.
   */
  secrets: Readonly<Record<string, string | undefined>>;
}

/** The type of `exports.execute`, called with the profile and the hook. */
type Execute = (lrObject: LrObject, hook: LrHook) => Promise<void> | void;

/** What a LoginRadius script exports. */
interface LoginRadiusExports {
  /** Called for each token. */
  execute?: Execute;
}

/** The script's exports: `exports.execute = async (lrObject, hook) => { ... }`. */
declare var exports: LoginRadiusExports;

/** The CommonJS module: `module.exports` is the script's exports. */
declare var module: { exports: LoginRadiusExports };

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
