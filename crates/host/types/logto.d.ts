
// ==== Logto style ==========================================================
//
// The script defines `getCustomJwtClaims` (with const/let/var, as a function,
// or exported) and returns the claims to add to the access token:
//
//   /** @type {GetCustomJwtClaims<'AccessToken'>} */
//   const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => {
//     return { roles: context.user.roles.map((role) => role.name) };
//   };
//
// `GetCustomJwtClaims` alone (every token kind) types a script that handles
// both user and machine-to-machine tokens: check `token.kind` first.
// `GetCustomJwtClaims<'AccessToken'>` and `GetCustomJwtClaims<'ClientCredentials'>`
// type a script meant for one kind, as Logto's console has one script per kind.

/** The kinds of token a claims script runs for. */
type TokenKind = 'AccessToken' | 'ClientCredentials';

/** The payload of a user access token (`token.kind === 'AccessToken'`). */
interface AccessTokenPayload {
  /** The token's kind: a user access token. */
  kind: 'AccessToken';
  /** The token's unique id. */
  jti: string;
  /** The audience: the API resource indicator(s) the token is for. */
  aud: string | string[];
  /** The granted scopes, separated by spaces. */
  scope?: string;
  /** The client (application) the token is issued to. */
  clientId?: string;
  /** The user's id. */
  accountId: string;
  /** Whether the token expires with the user's session. */
  expiresWithSession?: boolean;
  /** The grant the token belongs to. */
  grantId: string;
  /** The grant type, e.g. `"authorization_code"` or `"refresh_token"`. */
  gty: string;
  /** The session's unique id. */
  sessionUid?: string;
  /** The session id. */
  sid?: string;
}

/** The payload of a machine-to-machine token (`token.kind === 'ClientCredentials'`). */
interface ClientCredentialsPayload {
  /** The token's kind: a client-credentials (machine-to-machine) token. */
  kind: 'ClientCredentials';
  /** The token's unique id. */
  jti: string;
  /** The audience: the API resource indicator(s) the token is for. */
  aud: string | string[];
  /** The granted scopes, separated by spaces. */
  scope?: string;
  /**
   * The client (application) that authenticated. An identity server always
   * sets it for this grant; Claimscript passes the input's token as given.
   */
  clientId: string;
}

/** A token payload of either kind: check `kind` to tell them apart. */
type TokenPayload = AccessTokenPayload | ClientCredentialsPayload;

/**
 * A JSON object stored by the identity server (custom data, metadata). Its
 * values are whatever was stored, so they are not typed further.
 */
type JsonObject = Record<string, any>;

/** Standard OpenID Connect profile claims kept on the user (all optional). */
interface UserProfile {
  /** Surname. */
  familyName?: string;
  /** Given (first) name. */
  givenName?: string;
  middleName?: string;
  nickname?: string;
  /** The name the user prefers to be called by. */
  preferredUsername?: string;
  /** The URL of the user's profile page. */
  profile?: string;
  /** The URL of the user's website. */
  website?: string;
  gender?: string;
  /** ISO 8601 `YYYY-MM-DD` (or `YYYY`). */
  birthdate?: string;
  /** The time zone, e.g. `"Europe/Paris"`. */
  zoneinfo?: string;
  /** A BCP 47 language tag, e.g. `"en-GB"`. */
  locale?: string;
  /** The postal address. */
  address?: {
    /** The full address, for display. */
    formatted?: string;
    streetAddress?: string;
    locality?: string;
    region?: string;
    postalCode?: string;
    /** The country (as stored: a name or a code). */
    country?: string;
  };
}

/** A social identity linked to the user. */
interface UserIdentity {
  /** The user's id at the provider. */
  userId: string;
  /** The provider's user info, as the connector returned it. */
  details?: JsonObject;
}

/** An MFA factor the user has set up. */
type MfaFactor = 'Totp' | 'WebAuthn' | 'BackupCode' | 'EmailVerificationCode' | 'PhoneVerificationCode';

/** An API resource. */
interface UserRoleScopeResource {
  /** The resource's id. */
  id: string;
  /** The resource's display name. */
  name: string;
  /** The resource indicator (the API's identifier, a URI). */
  indicator: string;
  /** Whether it is the default resource (used when a request names none). */
  isDefault: boolean;
  /** The access token lifetime for this resource, in seconds. */
  accessTokenTtl: number;
}

/** A permission (scope) a role grants. */
interface UserRoleScope {
  /** The scope's id. */
  id: string;
  /** The permission, e.g. `"read:reports"`. */
  name: string;
  /** The scope's description, or null. */
  description: string | null;
  /** The id of the API resource the scope belongs to. */
  resourceId: string;
  /** The API resource the scope belongs to. */
  resource: UserRoleScopeResource;
}

/** A role assigned to the user, with the permissions it grants. */
interface UserRole {
  /** The role's id. */
  id: string;
  /** The role's name, e.g. `"admin"`. */
  name: string;
  /** The role's description. */
  description: string;
  /** The permissions (API resource scopes) the role grants. */
  scopes: UserRoleScope[];
}

/** An organization the user is a member of. */
interface UserOrganization {
  /** The organization's id. */
  id: string;
  /** The organization's name. */
  name: string;
  /** The organization's description, or null. */
  description: string | null;
}

/** A role the user has in an organization. */
interface UserOrganizationRole {
  /** The organization's id. */
  organizationId: string;
  /** The organization role's id. */
  roleId: string;
  /** The organization role's name, e.g. `"admin"`. */
  roleName: string;
}

/** An enterprise SSO identity linked to the user. */
interface UserSsoIdentity {
  /** The identity provider's issuer. */
  issuer: string;
  /** The user's id at the identity provider. */
  identityId: string;
  /** The identity provider's user info. */
  detail: JsonObject;
}

/** The user the token is issued for (`context.user`). */
interface CustomJwtUserContext {
  /** The user's id (the token's `sub`). */
  id: string;
  /** The username, or null when the user has none. */
  username: string | null;
  /** The primary email address, or null. */
  primaryEmail: string | null;
  /** The primary phone number (E.164 digits), or null. */
  primaryPhone: string | null;
  /** The display name, or null. */
  name: string | null;
  /** The URL of the user's picture. */
  avatar: string | null;
  /** Arbitrary data stored on the user. */
  customData: JsonObject;
  /** Linked social identities, by connector target (e.g. `github`). */
  identities: Record<string, UserIdentity>;
  /** When the user last signed in, in milliseconds since the epoch. */
  lastSignInAt: number | null;
  /** When the user was created, in milliseconds since the epoch. */
  createdAt: number;
  /** When the user was last updated, in milliseconds since the epoch. */
  updatedAt: number;
  /** Standard OpenID Connect profile claims. */
  profile: UserProfile;
  /** The application the user registered through. */
  applicationId: string | null;
  /** The client ID Metadata Document client the user registered through (newer Logto versions). */
  cimdClientId?: string | null;
  /** Whether the user is suspended. */
  isSuspended: boolean;
  /** Whether the user has set a password. */
  hasPassword: boolean;
  /** Enterprise SSO identities. */
  ssoIdentities: UserSsoIdentity[];
  /** The MFA factors the user has set up. */
  mfaVerificationFactors: MfaFactor[];
  /** The user's roles, with their permissions. */
  roles: UserRole[];
  /** The organizations the user belongs to. */
  organizations: UserOrganization[];
  /** The user's roles in each organization. */
  organizationRoles: UserOrganizationRole[];
}

/** The grant (`context.grant`), present only for token exchange. */
interface CustomJwtGrantContext {
  /** The grant type: token exchange (RFC 8693). */
  type: 'urn:ietf:params:oauth:grant-type:token-exchange';
  /** The context stored with the subject token. */
  subjectTokenContext: JsonObject;
}

/**
 * A verification the user passed during the interaction (password,
 * verification code, social, SSO, TOTP, WebAuthn, backup code, ...). Secrets
 * (TOTP secrets, backup codes, WebAuthn challenges, password hashes) are
 * stripped; the other fields depend on `type`.
 */
interface InteractionVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification, e.g. `"Password"`, `"EmailVerificationCode"`, `"Social"`, `"Totp"`. */
  type: string;
  /** Whether the verification succeeded. */
  verified?: boolean;
  /** The fields of this kind of verification (identifier, userId, connectorId, ...). */
  [field: string]: unknown;
}

/** The sign-in interaction the token results from (`context.interaction`). */
interface CustomJwtInteractionContext {
  /** What the user was doing: signing in, registering, or resetting a password. */
  interactionEvent: 'SignIn' | 'Register' | 'ForgotPassword';
  /** The user the interaction identified. */
  userId?: string;
  /** The verifications passed during the interaction. */
  verificationRecords: InteractionVerificationRecord[];
  /** Extra sign-in parameters the application passed. */
  signInContext?: Record<string, string>;
}

/** The application (`context.application`): its record, without the secret. */
interface CustomJwtApplicationContext {
  /** The application's id (the OAuth client id). */
  id: string;
  /** The application's name. */
  name: string;
  /** The application's description, or null. */
  description: string | null;
  /** The kind of application. */
  type: 'Native' | 'SPA' | 'Traditional' | 'MachineToMachine' | 'Protected' | 'SAML';
  /** OpenID Connect client metadata: redirect URIs, logout URIs, logo. */
  oidcClientMetadata: {
    redirectUris: string[];
    postLogoutRedirectUris: string[];
    backchannelLogoutUri?: string;
    backchannelLogoutSessionRequired?: boolean;
    logoUri?: string;
  };
  /** Logto's client settings (CORS origins, token lifetimes, refresh-token rotation, ...). */
  customClientMetadata: JsonObject;
  /** The protected app settings, for `Protected` applications. */
  protectedAppMetadata: JsonObject | null;
  /** Arbitrary data stored on the application. */
  customData: JsonObject;
  /** Whether the application is a third-party application (with a consent screen). */
  isThirdParty: boolean;
  /** When the application was created, in milliseconds since the epoch. */
  createdAt: number;
}

/** The organization the token is for (`context.organization`). */
interface CustomJwtOrganizationContext {
  /** The organization's id. */
  id: string;
  /** The organization's name. */
  name: string;
  /** The organization's description, or null. */
  description: string | null;
  /** Arbitrary data stored on the organization. */
  customData: JsonObject;
}

/**
 * The token request (`context.request`): a Claimscript input field, present
 * when the embedder passes it (Auth0's `event.request`, LoginRadius's
 * `lrObject.Request`). Logto does not send it.
 */
interface CustomJwtRequestContext {
  /** The client's IP address. */
  ip?: string;
  /** The client's User-Agent header. */
  userAgent?: string;
  /** The client's preferred language (Accept-Language). */
  language?: string;
  /** The host name the request was sent to. */
  hostname?: string;
}

/** The context of a user access token. */
interface AccessTokenContext {
  /** The user the token is issued for. */
  user: CustomJwtUserContext;
  /** Present only for token exchange. */
  grant?: CustomJwtGrantContext;
  /** The sign-in interaction, when the token results from one. */
  interaction?: CustomJwtInteractionContext;
  /** The application the token is issued to. */
  application?: CustomJwtApplicationContext;
  /** Present only when the token request names an organization (`organization_id`). */
  organization?: CustomJwtOrganizationContext;
  /** The token request, when the embedder passes it (a Claimscript addition). */
  request?: CustomJwtRequestContext;
}

/**
 * The context of a machine-to-machine token: only the application. The
 * members a user token's context has are declared absent, so that a script
 * handling both kinds can read `context?.user?.id`.
 */
interface ClientCredentialsContext {
  /** The application that authenticated. */
  application: CustomJwtApplicationContext;
  /** The token request, when the embedder passes it (a Claimscript addition). */
  request?: CustomJwtRequestContext;
  /** Absent: a machine-to-machine token has no user. */
  user?: undefined;
  /** Absent for a machine-to-machine token. */
  grant?: undefined;
  /** Absent for a machine-to-machine token. */
  interaction?: undefined;
  /** Absent for a machine-to-machine token. */
  organization?: undefined;
}

/** `api`: access control from the script. */
interface CustomJwtApiContext {
  /**
   * Rejects the token request: no token is issued and the client gets an
   * `access_denied` error with `message` (default `"Access denied"`).
   * It throws; the denial is recorded by the host, so catching the
   * exception and returning claims does not undo it.
   */
  denyAccess(message?: string): never;
}

/** The script's environment variables (only those the grants expose). Read-only. */
type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** What `getCustomJwtClaims` receives for a user access token. */
interface AccessTokenClaimsPayload {
  /** The token payload. */
  token: AccessTokenPayload;
  /**
   * The user, the application, the interaction, the organization... An
   * identity server always sends it for a user token; Claimscript passes
   * the input's context as given.
   */
  context: AccessTokenContext;
  /** The environment variables the grants expose. */
  environmentVariables: EnvironmentVariables;
  /** Access control: `api.denyAccess(message)`. */
  api: CustomJwtApiContext;
}

/** What `getCustomJwtClaims` receives for a machine-to-machine token. */
interface ClientCredentialsClaimsPayload {
  /** The token payload. */
  token: ClientCredentialsPayload;
  /** Absent unless the input has one (Logto sends none; it holds only the application). */
  context?: ClientCredentialsContext;
  /** The environment variables the grants expose. */
  environmentVariables: EnvironmentVariables;
  /** Access control: `api.denyAccess(message)`. */
  api: CustomJwtApiContext;
}

/** The payload for each token kind. */
interface CustomJwtClaimsPayloads {
  /** A user access token's payload. */
  AccessToken: AccessTokenClaimsPayload;
  /** A machine-to-machine token's payload. */
  ClientCredentials: ClientCredentialsClaimsPayload;
}

/**
 * The argument of `getCustomJwtClaims`: `{ token, context?, environmentVariables, api }`.
 * Without a type argument, the payload of either token kind.
 */
type CustomJwtClaimsPayload<Kind extends TokenKind = TokenKind> = CustomJwtClaimsPayloads[Kind];

/**
 * The claims to add: a plain object (not a class instance, array or null),
 * serialised as JSON. Protected claims (`iss`, `sub`, `aud`, `exp`, `scope`,
 * ...) are dropped and reported; the JSON may be at most `max_output_bytes`.
 */
type CustomJwtClaims = Record<string, unknown>;

/**
 * The type of `getCustomJwtClaims`, called for each token with
 * `{ token, context, environmentVariables, api }` and returning (or
 * resolving to) the claims to add.
 *
 * `GetCustomJwtClaims` takes a token of either kind;
 * `GetCustomJwtClaims<'AccessToken'>` a user token (with `context.user`) and
 * `GetCustomJwtClaims<'ClientCredentials'>` a machine-to-machine token.
 *
 * Annotate the script's function with a JSDoc comment holding
 * `@type {GetCustomJwtClaims<'AccessToken'>}` (or another kind), right
 * above `const getCustomJwtClaims = async ({ token, context }) => { ... }`.
 */
type GetCustomJwtClaims<Kind extends TokenKind = TokenKind> = (
  payload: CustomJwtClaimsPayload<Kind>,
) => Promise<CustomJwtClaims> | CustomJwtClaims;
