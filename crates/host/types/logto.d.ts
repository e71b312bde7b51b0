
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

/** What a password verification identified the user by. */
interface PasswordVerificationIdentifier {
  /** The kind of identifier the user typed. */
  type: 'username' | 'email' | 'phone' | 'userId';
  /** The identifier's value: the username, email address, phone number or user id. */
  value: string;
}

/** The email address or phone number a verification code was sent to. */
interface VerificationCodeIdentifier {
  /** The kind of identifier the code was sent to. */
  type: 'email' | 'phone';
  /** The email address or phone number. */
  value: string;
}

/** What a verification code was sent for. */
type VerificationCodeTemplateType = 'SignIn' | 'Register' | 'ForgotPassword' | 'Generic';

/** The user's info at a social provider, as its connector returned it. */
interface SocialVerificationUserInfo {
  /** The user's id at the provider. */
  id: string;
  email?: string;
  phone?: string;
  name?: string;
  /** The URL of the user's picture at the provider. */
  avatar?: string;
  /** The provider's response, as the connector returned it. */
  rawData?: JsonObject;
}

/** The user's info at an enterprise identity provider (SAML or OIDC). */
interface EnterpriseSsoVerificationUserInfo {
  /** The user's id at the identity provider. */
  id: string;
  email?: string;
  phone?: string;
  name?: string;
  /** The URL of the user's picture. */
  avatar?: string;
  /** The other attributes the identity provider returned. */
  [attribute: string]: unknown;
}

/** A password check (`type: "Password"`). The password itself is stripped. */
interface PasswordVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a password. */
  type: 'Password';
  /** What the user identified themself by. */
  identifier: PasswordVerificationIdentifier;
  /** Whether the password was correct. */
  verified: boolean;
}

/** A code sent by email (`type: "EmailVerificationCode"`). */
interface EmailVerificationCodeRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a code sent by email. */
  type: 'EmailVerificationCode';
  /** What the code was sent for. */
  templateType: VerificationCodeTemplateType;
  /** Whether the user entered the right code. */
  verified: boolean;
  /** Where the code was sent. */
  identifier: VerificationCodeIdentifier;
}

/** A code sent by SMS (`type: "PhoneVerificationCode"`). */
interface PhoneVerificationCodeRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a code sent by SMS. */
  type: 'PhoneVerificationCode';
  /** What the code was sent for. */
  templateType: VerificationCodeTemplateType;
  /** Whether the user entered the right code. */
  verified: boolean;
  /** Where the code was sent. */
  identifier: VerificationCodeIdentifier;
}

/** A social sign-in (`type: "Social"`). Encrypted token sets are stripped. */
interface SocialVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a social provider. */
  type: 'Social';
  /** The id of the social connector used. */
  connectorId: string;
  /** The user's info at the provider, once the provider answered. */
  socialUserInfo?: SocialVerificationUserInfo;
}

/** An enterprise SSO sign-in (`type: "EnterpriseSso"`). Encrypted token sets are stripped. */
interface EnterpriseSsoVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: an enterprise identity provider. */
  type: 'EnterpriseSso';
  /** The id of the SSO connector used. */
  connectorId: string;
  /** The user's info at the identity provider, once it answered. */
  enterpriseUserInfo?: EnterpriseSsoVerificationUserInfo;
  /** The identity provider's issuer. */
  issuer?: string;
}

/** An authenticator app code, an MFA factor (`type: "Totp"`). The secret is stripped. */
interface TotpVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a TOTP code. */
  type: 'Totp';
  /** The user the factor belongs to. */
  userId: string;
  /** Whether the code was right. */
  verified: boolean;
}

/** A passkey or security key, an MFA factor (`type: "WebAuthn"`). Challenges are stripped. */
interface WebAuthnVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: WebAuthn. */
  type: 'WebAuthn';
  /** The user the factor belongs to. */
  userId: string;
  /** Whether the authenticator's assertion was valid. */
  verified: boolean;
}

/** A backup code, an MFA factor (`type: "BackupCode"`). The user's stored codes are stripped. */
interface BackupCodeVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a backup code. */
  type: 'BackupCode';
  /** The user the codes belong to. */
  userId: string;
  /** The backup code used, once it was checked. */
  code?: string;
}

/** A one-time token, e.g. from a magic link or an invitation (`type: "OneTimeToken"`). */
interface OneTimeTokenVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification: a one-time token. */
  type: 'OneTimeToken';
  /** Whether the token was valid. */
  verified: boolean;
  /** The email address the token was issued for. */
  identifier: { type: 'email'; value: string };
  /** What the token was issued with. */
  oneTimeTokenContext?: {
    /** Organizations the user joins just in time (when signing up with the token). */
    jitOrganizationIds?: string[];
  };
}

/** A verification record of a kind these declarations list, told apart by `type`. */
type KnownVerificationRecord =
  | PasswordVerificationRecord
  | EmailVerificationCodeRecord
  | PhoneVerificationCodeRecord
  | SocialVerificationRecord
  | EnterpriseSsoVerificationRecord
  | TotpVerificationRecord
  | WebAuthnVerificationRecord
  | BackupCodeVerificationRecord
  | OneTimeTokenVerificationRecord;

/** The kinds of verification record these declarations list. */
type KnownVerificationRecordType = KnownVerificationRecord['type'];

/**
 * A verification record of a kind Logto adds after these declarations (its
 * `type` is any string), so that a script handling one still type-checks.
 *
 * TypeScript cannot write "any string but the known kinds", so this member
 * stays beside a known kind when a script narrows on `record.type`. The
 * fields the known kinds have are declared `never` here, which leaves a
 * narrowed record's fields with exactly the known kind's types (and a
 * misspelt field an error); `verified` is the one field this member shares,
 * so it reads as `boolean | undefined`.
 *
 * To read a new kind's fields, compare `record.type` with its name (also in
 * a `switch`'s `default`, which does not narrow by itself): its fields then
 * read as `unknown`, except those a known kind uses, which need a cast.
 */
interface OtherVerificationRecord {
  /** The verification record's id. */
  id: string;
  /** The kind of verification, one these declarations do not list. */
  type: string;
  /** Whether the verification succeeded, when the kind has that notion. */
  verified?: boolean;
  /** Not declared for kinds these declarations do not list. */
  identifier: never;
  /** Not declared for kinds these declarations do not list. */
  templateType: never;
  /** Not declared for kinds these declarations do not list. */
  connectorId: never;
  /** Not declared for kinds these declarations do not list. */
  userId: never;
  /** Not declared for kinds these declarations do not list. */
  socialUserInfo?: never;
  /** Not declared for kinds these declarations do not list. */
  enterpriseUserInfo?: never;
  /** Not declared for kinds these declarations do not list. */
  issuer?: never;
  /** Not declared for kinds these declarations do not list. */
  code?: never;
  /** Not declared for kinds these declarations do not list. */
  oneTimeTokenContext?: never;
  /** The fields of the new kind. */
  [field: string]: unknown;
}

/**
 * A verification the user passed (or attempted) during the interaction,
 * told apart by `type`: check it before reading the other fields.
 *
 *   for (const record of context.interaction?.verificationRecords ?? []) {
 *     if (record.type === 'EnterpriseSso') return { ssoEmail: record.enterpriseUserInfo?.email };
 *   }
 *
 * Secrets (passwords, TOTP secrets, backup codes, WebAuthn challenges,
 * encrypted token sets) are stripped. Each kind appears at most once in one
 * interaction.
 */
type InteractionVerificationRecord = KnownVerificationRecord | OtherVerificationRecord;

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
  /** The provider's hook request, when a provider hook runs the script (a Claimscript addition). */
  hook?: ProviderHook;
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
  /** The provider's hook request, when a provider hook runs the script (a Claimscript addition). */
  hook?: ProviderHook;
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
