// Claimscript: the globals a claims script can use.
//
// `claimscript types --style STYLE` prints this file followed by the style's
// declarations (logto.d.ts, auth0.d.ts or loginradius.d.ts). Together they
// form one global declaration file: put it beside your script and point your
// editor at it, for example with a jsconfig.json such as
//
//   { "compilerOptions": { "checkJs": true, "strict": true, "target": "es2023",
//       "lib": ["es2023"], "types": [] },
//     "include": ["claimscript.d.ts", "script.js"] }
//
// Leave out the DOM library and @types/node ("lib": ["es2023"], "types": []):
// the script runs in neither a browser nor Node.js, and their declarations
// would clash with these.
//
// The runtime: QuickJS (ES2023) compiled to WebAssembly, with no DOM, no Node
// APIs, no file or socket access and no `import()` of modules. What is
// declared here is what the runtime implements; anything else is absent.
//
// Limits (set by the embedder's grants; defaults in brackets):
// - fuel: instructions per run [50,000,000; an endless loop ends in ~10 ms];
// - wall clock per run, host calls and timers included [1000 ms, max 60000];
// - linear memory [32 MiB];
// - the claims' JSON [51,200 bytes]; larger is `output_too_large`;
// - console: at most 100 records per run, each at most 2048 bytes (longer
//   ones are cut and end with `…`); a final warning counts the dropped ones;
// - fetch: only origins the grants allow, a timeout per request [500 ms], a
//   response size cap [1 MiB] and optionally a number of requests per run.
//
// Top-level code runs once, when the script is compiled: `fetch`, random
// values, environment variables and the style's API work only inside the
// function the identity server calls.

// ---- console ---------------------------------------------------------------

/**
 * The run's console. Each call becomes one record of the run's `logs`,
 * its arguments formatted and joined with spaces (objects as JSON, errors
 * with their stack). At most 100 records are kept per run, each at most
 * 2048 bytes.
 */
interface Console {
  /** A record at level `log`. */
  log(...data: any[]): void;
  /** A record at level `info`. */
  info(...data: any[]): void;
  /** A record at level `warn`. */
  warn(...data: any[]): void;
  /** A record at level `error`. */
  error(...data: any[]): void;
  /** A record at level `debug`. */
  debug(...data: any[]): void;
  /** The same as `console.debug` (no stack trace is added). */
  trace(...data: any[]): void;
}

/** The run's console: `log`, `info`, `warn`, `error`, `debug` and `trace`. */
declare var console: Console;

// ---- DOMException ----------------------------------------------------------

/**
 * An error with a name from the web platform's list (`AbortError`,
 * `TimeoutError`, `DataCloneError`, `InvalidCharacterError`, ...).
 */
declare class DOMException extends Error {
  /**
   * @param message The error's message (default: empty).
   * @param name The error's name (default: `"Error"`).
   */
  constructor(message?: string, name?: string);
  /** The error's name, e.g. `"AbortError"` or `"TimeoutError"`. */
  readonly name: string;
  /** The legacy numeric code of the name (`AbortError` is 20), or 0. */
  readonly code: number;
}

// ---- Event and EventTarget -------------------------------------------------

/** Options of the `Event` constructor. */
interface EventInit {
  /** Recorded only: there is no tree to bubble through. */
  bubbles?: boolean;
  /** Whether `preventDefault()` can cancel the event. */
  cancelable?: boolean;
  /** Recorded only. */
  composed?: boolean;
}

/**
 * An event. There is no DOM tree: an event only ever reaches its target, so
 * `eventPhase` is `AT_TARGET` while it is dispatched and `NONE` otherwise.
 */
declare class Event {
  /**
   * @param type The event's type, e.g. `"abort"`.
   * @param eventInitDict `bubbles`, `cancelable` and `composed`.
   */
  constructor(type: string, eventInitDict?: EventInit);
  /** The event's type. */
  readonly type: string;
  /** The object the event was dispatched to, or null before dispatch. */
  readonly target: EventTarget | null;
  /** The same as `target`. */
  readonly srcElement: EventTarget | null;
  /** The object whose listeners are being called, or null outside dispatch. */
  readonly currentTarget: EventTarget | null;
  /** `AT_TARGET` (2) while dispatched, `NONE` (0) otherwise. */
  readonly eventPhase: number;
  readonly bubbles: boolean;
  readonly cancelable: boolean;
  readonly composed: boolean;
  /** True only for events the runtime fires itself (an AbortSignal's `abort`). */
  readonly isTrusted: boolean;
  /** When the event was created, in milliseconds since the epoch. */
  readonly timeStamp: number;
  /** Whether `preventDefault()` was called on a cancelable event. */
  readonly defaultPrevented: boolean;
  /** `[currentTarget]` while dispatched, `[]` otherwise. */
  composedPath(): EventTarget[];
  /** Cancels the event if it is cancelable (and not in a passive listener). */
  preventDefault(): void;
  /** `!defaultPrevented`; setting it to false cancels the event. */
  returnValue: boolean;
  /** Recorded (`cancelBubble`); there is no tree to propagate through. */
  stopPropagation(): void;
  /** Stops the remaining listeners from being called. */
  stopImmediatePropagation(): void;
  /** Whether propagation was stopped; setting it to true stops it. */
  cancelBubble: boolean;
  readonly NONE: 0;
  readonly CAPTURING_PHASE: 1;
  readonly AT_TARGET: 2;
  readonly BUBBLING_PHASE: 3;
  static readonly NONE: 0;
  static readonly CAPTURING_PHASE: 1;
  static readonly AT_TARGET: 2;
  static readonly BUBBLING_PHASE: 3;
}

/** A function called with the event. */
interface EventListener {
  (event: Event): void;
}

/** An object whose `handleEvent` is called with the event. */
interface EventListenerObject {
  handleEvent(event: Event): void;
}

type EventListenerOrEventListenerObject = EventListener | EventListenerObject;

/** Options of `removeEventListener`. */
interface EventListenerOptions {
  /** Tells apart listeners added with the same callback. */
  capture?: boolean;
}

/** Options of `addEventListener`. */
interface AddEventListenerOptions extends EventListenerOptions {
  /** Remove the listener after its first call. */
  once?: boolean;
  /** The listener cannot cancel the event. */
  passive?: boolean;
  /** Remove the listener when this signal aborts. */
  signal?: AbortSignal;
}

/** An object that events can be dispatched to. */
declare class EventTarget {
  constructor();
  /**
   * Adds a listener for events of `type` (once per callback and capture
   * flag). An exception thrown by a listener is logged as an error record,
   * not rethrown.
   */
  addEventListener(
    type: string,
    callback: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  /** Removes a listener added with the same callback and capture flag. */
  removeEventListener(
    type: string,
    callback: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void;
  /**
   * Calls the listeners of `event.type` on this target, in order.
   *
   * @returns false if a listener canceled the event, true otherwise.
   */
  dispatchEvent(event: Event): boolean;
}

// ---- AbortController and AbortSignal ---------------------------------------

/**
 * Tells an operation (a `fetch`, a listener) to stop. Made by an
 * `AbortController` or by the static `abort`, `timeout` and `any`; it cannot
 * be constructed directly.
 */
declare class AbortSignal extends EventTarget {
  private constructor();
  /** A signal that is already aborted, with `reason` (default: an `AbortError` DOMException). */
  static abort(reason?: any): AbortSignal;
  /**
   * A signal that aborts with a `TimeoutError` DOMException after
   * `milliseconds` (a non-negative integer). The run's own wall-clock limit
   * still applies.
   */
  static timeout(milliseconds: number): AbortSignal;
  /** A signal that aborts as soon as one of `signals` does, with its reason. */
  static any(signals: Iterable<AbortSignal>): AbortSignal;
  /** Whether the signal has aborted. */
  readonly aborted: boolean;
  /** Why the signal aborted; undefined while it has not. */
  readonly reason: any;
  /** Throws `reason` if the signal has aborted. */
  throwIfAborted(): void;
  /** Called with the `abort` event. */
  onabort: ((this: AbortSignal, event: Event) => any) | null;
}

/** Makes an `AbortSignal` and aborts it on demand. */
declare class AbortController {
  constructor();
  /** The controller's signal. */
  readonly signal: AbortSignal;
  /** Aborts the signal with `reason` (default: an `AbortError` DOMException). */
  abort(reason?: any): void;
}

// ---- timers and queueMicrotask ---------------------------------------------

/**
 * Calls `handler` with `args` after `timeout` milliseconds (default 0). A
 * string handler is not supported. The run waits for due timers, within its
 * wall-clock limit; an exception in the handler is logged, not rethrown.
 *
 * @returns the timer's id, for `clearTimeout`.
 */
declare function setTimeout(handler: (...args: any[]) => void, timeout?: number, ...args: any[]): number;

/** Cancels a timer made by `setTimeout` or `setInterval`. */
declare function clearTimeout(id?: number): void;

/**
 * Calls `handler` with `args` every `timeout` milliseconds (default 0) until
 * cleared. A string handler is not supported.
 *
 * @returns the timer's id, for `clearInterval`.
 */
declare function setInterval(handler: (...args: any[]) => void, timeout?: number, ...args: any[]): number;

/** Cancels a timer made by `setInterval` or `setTimeout`. */
declare function clearInterval(id?: number): void;

/** Calls `callback` once the current job is done (before timers). */
declare function queueMicrotask(callback: () => void): void;

// ---- URLSearchParams and URL -----------------------------------------------

/**
 * A list of name-value pairs: a URL's query or a form body
 * (`application/x-www-form-urlencoded`).
 */
declare class URLSearchParams {
  /**
   * @param init A query string (a leading `?` is dropped), pairs, or an
   * object whose own enumerable properties become the pairs.
   */
  constructor(init?: string | Iterable<readonly [string, string] | readonly string[]> | Record<string, string> | URLSearchParams);
  /** The number of pairs. */
  readonly size: number;
  /** Adds a pair at the end. */
  append(name: string, value: string): void;
  /** Removes the pairs named `name` (and with `value`, when given). */
  delete(name: string, value?: string): void;
  /** The value of the first pair named `name`, or null. */
  get(name: string): string | null;
  /** The values of all pairs named `name`. */
  getAll(name: string): string[];
  /** Whether a pair named `name` (and with `value`, when given) exists. */
  has(name: string, value?: string): boolean;
  /** Sets the first pair named `name` to `value` and removes the others. */
  set(name: string, value: string): void;
  /** Sorts the pairs by name (stable). */
  sort(): void;
  /** Calls `callbackfn` with each pair's value and name. */
  forEach(callbackfn: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: any): void;
  /** The names, in order (live: changes made while iterating are seen). */
  keys(): IterableIterator<string>;
  /** The values, in order. */
  values(): IterableIterator<string>;
  /** The `[name, value]` pairs, in order. */
  entries(): IterableIterator<[string, string]>;
  /** The `[name, value]` pairs, in order. */
  [Symbol.iterator](): IterableIterator<[string, string]>;
  /** The pairs as a query string, without a leading `?`. */
  toString(): string;
}

/** A parsed URL (WHATWG URL Standard). */
declare class URL {
  /**
   * Parses `url`, relative to `base` when given.
   *
   * @throws TypeError when the URL is invalid.
   */
  constructor(url: string | URL, base?: string | URL);
  /** Whether `url` (relative to `base`) parses. */
  static canParse(url: string | URL, base?: string | URL): boolean;
  /** The parsed URL, or null when it is invalid (instead of throwing). */
  static parse(url: string | URL, base?: string | URL): URL | null;
  /** The whole URL. */
  href: string;
  /** The scheme, host and port, e.g. `"https://api.example.com"`. */
  readonly origin: string;
  /** The scheme with its colon, e.g. `"https:"`. */
  protocol: string;
  username: string;
  password: string;
  /** The host name and port, e.g. `"api.example.com:8443"`. */
  host: string;
  /** The host name, without the port. */
  hostname: string;
  /** The port, or empty for the scheme's default. */
  port: string;
  /** The path, e.g. `"/v1/users"`. */
  pathname: string;
  /** The query with its `?`, or empty. */
  search: string;
  /** The query as a live `URLSearchParams`: changing it changes the URL. */
  readonly searchParams: URLSearchParams;
  /** The fragment with its `#`, or empty. */
  hash: string;
  /** The same as `href`. */
  toString(): string;
  /** The same as `href`. */
  toJSON(): string;
}

// ---- TextEncoder and TextDecoder -------------------------------------------

/** Encodes strings as UTF-8. */
declare class TextEncoder {
  constructor();
  /** Always `"utf-8"`. */
  readonly encoding: 'utf-8';
  /** The UTF-8 bytes of `input` (lone surrogates become U+FFFD). */
  encode(input?: string): Uint8Array;
  /** Writes as much of `source` as fits into `destination`, never part of a character. */
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

/**
 * The labels `TextDecoder` accepts: UTF-8 is the only encoding (labels are
 * matched without regard to case).
 */
type TextDecoderLabel = 'utf-8' | 'utf8' | 'UTF-8' | 'UTF8' | 'unicode-1-1-utf-8' | 'unicode11utf8' | 'unicode20utf8' | 'x-unicode20utf8';

/** Options of the `TextDecoder` constructor. */
interface TextDecoderOptions {
  /** Throw a TypeError on invalid UTF-8 instead of writing U+FFFD. */
  fatal?: boolean;
  /** Keep a leading byte order mark. */
  ignoreBOM?: boolean;
}

/** Decodes UTF-8 bytes. Streaming (`{ stream: true }`) is not supported. */
declare class TextDecoder {
  /** @throws RangeError for a label other than UTF-8's. */
  constructor(label?: TextDecoderLabel, options?: TextDecoderOptions);
  /** Always `"utf-8"`. */
  readonly encoding: 'utf-8';
  /** Whether invalid UTF-8 throws. */
  readonly fatal: boolean;
  /** Whether a leading byte order mark is kept. */
  readonly ignoreBOM: boolean;
  /** The text of `input` (an ArrayBuffer or a view of one). */
  decode(input?: BufferSource, options?: { stream?: false }): string;
}

// ---- atob, btoa, structuredClone -------------------------------------------

/**
 * Decodes base64 into a "binary string" (one character per byte).
 *
 * @throws DOMException `InvalidCharacterError` when `data` is not base64.
 */
declare function atob(data: string): string;

/**
 * Encodes a "binary string" (characters U+0000 to U+00FF) as base64.
 *
 * @throws DOMException `InvalidCharacterError` for a character above U+00FF.
 */
declare function btoa(data: string): string;

/** Options of `structuredClone`. */
interface StructuredSerializeOptions {
  /** Accepted and ignored: the listed buffers are copied, not transferred. */
  transfer?: any[];
}

/**
 * A deep copy of `value` (the HTML structured clone): plain objects, arrays,
 * Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, Error and
 * DOMException, boxed primitives; cycles are kept.
 *
 * @throws DOMException `DataCloneError` for functions, symbols and objects
 * with internal state (Promise, WeakMap, URL, AbortSignal, ...).
 */
declare function structuredClone<T = any>(value: T, options?: StructuredSerializeOptions): T;

// ---- crypto ----------------------------------------------------------------

/** Bytes: an ArrayBuffer or a view of one (a typed array or a DataView). */
type BufferSource = ArrayBuffer | ArrayBufferView;

/** The integer typed arrays `crypto.getRandomValues` fills. */
type IntegerTypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** The hash functions `digest` and HMAC support (names match without regard to case). */
type HashAlgorithmName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A hash function, by name or as `{ name }`. */
type HashAlgorithmIdentifier = HashAlgorithmName | { name: HashAlgorithmName };

/** HMAC, the only algorithm for keys, signing and verifying. */
type HmacAlgorithmIdentifier = 'HMAC' | { name: 'HMAC' };

/** The `algorithm` argument of `importKey`: HMAC with a hash. */
interface HmacImportParams {
  name: 'HMAC';
  /** The hash the HMAC uses. */
  hash: HashAlgorithmIdentifier;
  /** The key length in bits (default: the key data's); may only drop bits of the last byte. */
  length?: number;
}

/** What an HMAC key may be used for. */
type HmacKeyUsage = 'sign' | 'verify';

/** An HMAC secret key, from `crypto.subtle.importKey`. */
declare class CryptoKey {
  private constructor();
  /** Always `"secret"`. */
  readonly type: 'secret';
  /** Whether `exportKey` may return the key's bytes. */
  readonly extractable: boolean;
  /** HMAC, its hash, and the key length in bits. */
  readonly algorithm: { name: 'HMAC'; hash: { name: HashAlgorithmName }; length: number };
  /** What the key may be used for. */
  readonly usages: HmacKeyUsage[];
}

/**
 * Web Crypto's `crypto.subtle`, for what claims scripts need: SHA digests
 * and HMAC. Other algorithms reject with a `NotSupportedError`.
 */
declare class SubtleCrypto {
  private constructor();
  /** The SHA-1, SHA-256, SHA-384 or SHA-512 digest of `data`. */
  digest(algorithm: HashAlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  /**
   * Imports raw bytes as an HMAC key.
   *
   * @param format Only `"raw"`.
   * @param keyData The secret's bytes, e.g. `new TextEncoder().encode(secret)`.
   * @param algorithm `{ name: "HMAC", hash: "SHA-256" }`, for example.
   * @param extractable Whether `exportKey` may return the bytes.
   * @param keyUsages `"sign"` and/or `"verify"`.
   */
  importKey(
    format: 'raw',
    keyData: BufferSource,
    algorithm: HmacImportParams,
    extractable: boolean,
    keyUsages: Iterable<HmacKeyUsage>,
  ): Promise<CryptoKey>;
  /** The key's bytes (only `"raw"`, only for an extractable key). */
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>;
  /** The HMAC of `data` with a key that may `"sign"`. */
  sign(algorithm: HmacAlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  /** Whether `signature` is the HMAC of `data` (compared in constant time). */
  verify(algorithm: HmacAlgorithmIdentifier, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
}

/** The type of the global `crypto`; it cannot be constructed. */
declare class Crypto {
  private constructor();
  /** SHA digests and HMAC. */
  readonly subtle: SubtleCrypto;
  /**
   * Fills an integer typed array (at most 65,536 bytes) with random values
   * from the host's CSPRNG, and returns it.
   */
  getRandomValues<T extends IntegerTypedArray>(array: T): T;
  /** A random version 4 UUID, e.g. `"1b4e28ba-2fa1-4d2b-883f-0016d3cca427"`. */
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
}

/** Web Crypto: random values, UUIDs, SHA digests and HMAC. */
declare var crypto: Crypto;

// ---- Fetch API -------------------------------------------------------------

/**
 * Headers for `Headers`, `fetch`, `Request` and `Response`: a `Headers`, an
 * iterable of `[name, value]` pairs, or an object of names and values.
 */
type HeadersInit = Headers | Iterable<readonly [string, string] | readonly string[]> | Record<string, string>;

/** HTTP headers, names lower-cased, in insertion order. */
declare class Headers {
  constructor(init?: HeadersInit);
  /** Adds a value to `name`, keeping its other values. */
  append(name: string, value: string): void;
  /** Removes every value of `name`. */
  delete(name: string): void;
  /** The values of `name` joined with `", "`, or null when absent. */
  get(name: string): string | null;
  /** The values of every `set-cookie` header, one entry each. */
  getSetCookie(): string[];
  /** Whether `name` has a value. */
  has(name: string): boolean;
  /** Sets `name` to `value`, replacing its values. */
  set(name: string, value: string): void;
  /** Calls `callbackfn` with each combined value and name, sorted by name. */
  forEach(callbackfn: (value: string, key: string, parent: Headers) => void, thisArg?: any): void;
  /** Pairs sorted by name, with the values of each name combined. */
  entries(): IterableIterator<[string, string]>;
  /** The names, sorted. */
  keys(): IterableIterator<string>;
  /** The combined values, sorted by name. */
  values(): IterableIterator<string>;
  /** The same as `entries()`. */
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

/** A request or response body: bytes, a form (URLSearchParams) or text. */
type BodyInit = ArrayBuffer | ArrayBufferView | URLSearchParams | string;

/** A URL string or a `Request`. */
type RequestInfo = Request | string;

/** Options of `fetch` and of the `Request` constructor. */
interface RequestInit {
  /** GET (default), POST, PUT, PATCH, DELETE, HEAD, OPTIONS or another token; not CONNECT, TRACE or TRACK. */
  method?: string;
  headers?: HeadersInit;
  /** Not allowed for GET and HEAD. */
  body?: BodyInit | null;
  /** Aborts the request (`AbortSignal.timeout(ms)`, for example). */
  signal?: AbortSignal | null;
  /** Only `"follow"`: redirects are followed (at most 3). */
  redirect?: 'follow';
}

/** Options of the `Response` constructor. */
interface ResponseInit {
  /** 200 to 599 (default 200). */
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

/**
 * What requests and responses share. The body is held as bytes and read
 * once with `arrayBuffer()`, `bytes()`, `text()` or `json()`; there are no
 * streams, so `body` is always null.
 */
interface Body {
  /** Always null: ReadableStream is not available; read the body with `text()`, `json()`, ... */
  readonly body: null;
  /** Whether the body has been read. */
  readonly bodyUsed: boolean;
  /** The body's bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The body's bytes, as a Uint8Array. */
  bytes(): Promise<Uint8Array>;
  /** The body decoded as UTF-8. */
  text(): Promise<string>;
  /** The body parsed as JSON. */
  json(): Promise<any>;
}

interface Request extends Body {}

/** An HTTP request, for `fetch`. */
declare class Request {
  /** @param input An absolute URL (there is no base URL) or a Request to copy. */
  constructor(input: RequestInfo | URL, init?: RequestInit);
  /** The absolute URL. */
  readonly url: string;
  /** The method, upper-cased when it is a standard one. */
  readonly method: string;
  readonly headers: Headers;
  /** The signal that aborts the request (a fresh one when none was given). */
  readonly signal: AbortSignal;
  /** Always `"follow"`. */
  readonly redirect: 'follow';
  /** A copy, with a copy of the body. */
  clone(): Request;
}

interface Response extends Body {}

/** An HTTP response: what `fetch` resolves to, or one made by the script. */
declare class Response {
  constructor(body?: BodyInit | null, init?: ResponseInit);
  /** A network error response (status 0). */
  static error(): Response;
  /** A redirect to `url` with `status` (default 302). */
  static redirect(url: string | URL, status?: 301 | 302 | 303 | 307 | 308): Response;
  /** A response whose body is `data` as JSON, with `content-type: application/json`. */
  static json(data: any, init?: ResponseInit): Response;
  /** `"basic"` for a fetched response, `"default"` for a constructed one, `"error"` for `Response.error()`. */
  readonly type: 'basic' | 'default' | 'error';
  /** The final URL, after redirects. */
  readonly url: string;
  /** Whether a redirect was followed. */
  readonly redirected: boolean;
  /** The HTTP status code. */
  readonly status: number;
  /** Whether `status` is 200 to 299. */
  readonly ok: boolean;
  /** The reason phrase, e.g. `"OK"`. */
  readonly statusText: string;
  /** The headers (immutable for a fetched response). */
  readonly headers: Headers;
  /** A copy, with a copy of the body. @throws TypeError when the body has been read. */
  clone(): Response;
}

/**
 * An HTTP request through the host. Only the origins the embedder's grants
 * allow can be reached, every other request rejects with a TypeError
 * (`fetch failed: ...`); each request has a timeout and a response size cap.
 * URLs must be absolute.
 */
declare function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;

// ---- axios (CommonJS styles: `require('axios')`) ---------------------------

/** The HTTP methods the axios shim names. */
type AxiosMethod =
  | 'get' | 'GET' | 'delete' | 'DELETE' | 'head' | 'HEAD' | 'options' | 'OPTIONS'
  | 'post' | 'POST' | 'put' | 'PUT' | 'patch' | 'PATCH';

/** A request's settings, merged over the instance's defaults. */
interface AxiosRequestConfig<D = any> {
  /** The URL: absolute, or relative to `baseURL`. */
  url?: string;
  /** The method (default `get`). */
  method?: AxiosMethod;
  /** Prefixed to a relative `url`. */
  baseURL?: string;
  /** Query parameters appended to the URL; null and undefined values are skipped. */
  params?: Record<string, string | number | boolean | null | undefined>;
  /** Request headers, merged over the defaults' headers. */
  headers?: Record<string, string>;
  /**
   * The body: an object or array is sent as JSON (with
   * `content-type: application/json` unless set); a string, bytes or a
   * URLSearchParams as they are.
   */
  data?: D;
  /** Milliseconds before the request is aborted (0 or absent: none besides the grants' timeout). */
  timeout?: number;
  /** Aborts the request; takes precedence over `timeout`. */
  signal?: AbortSignal;
  /** `"text"` keeps the body as a string; otherwise it is parsed as JSON when it can be. */
  responseType?: 'json' | 'text';
  /** Which statuses resolve (default: 200 to 299); null resolves every status. */
  validateStatus?: ((status: number) => boolean) | null;
}

/** A response of the axios shim. */
interface AxiosResponse<T = any, D = any> {
  /** The body parsed as JSON, or the text when it is not JSON (or `responseType` is `"text"`). */
  data: T;
  /** The HTTP status code. */
  status: number;
  /** The reason phrase. */
  statusText: string;
  /** The response headers, names lower-cased. */
  headers: Record<string, string>;
  /** The merged request config. */
  config: AxiosRequestConfig<D>;
}

/**
 * The rejection for a status that `validateStatus` refuses. Network
 * failures reject with fetch's TypeError, and a timeout with a
 * `TimeoutError` DOMException, not with an AxiosError.
 */
interface AxiosError<T = any, D = any> extends Error {
  name: 'AxiosError';
  /** `ERR_BAD_RESPONSE` for 5xx, `ERR_BAD_REQUEST` otherwise. */
  code: 'ERR_BAD_RESPONSE' | 'ERR_BAD_REQUEST';
  isAxiosError: true;
  config: AxiosRequestConfig<D>;
  response: AxiosResponse<T, D>;
}

/**
 * `require('axios')`: a thin axios-compatible layer over `fetch`, so its
 * requests obey the same grants. Interceptors, cancel tokens, adapters and
 * form data are not available.
 */
interface Axios {
  /** A request from a config. */
  <T = any, D = any>(config: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A request to `url`. */
  <T = any, D = any>(url: string, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A request from a config. */
  request<T = any, D = any>(config: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A GET request. */
  get<T = any, D = any>(url: string, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A DELETE request. */
  delete<T = any, D = any>(url: string, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A HEAD request. */
  head<T = any, D = any>(url: string, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** An OPTIONS request. */
  options<T = any, D = any>(url: string, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A POST request with body `data` (objects are sent as JSON). */
  post<T = any, D = any>(url: string, data?: D, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A PUT request with body `data` (objects are sent as JSON). */
  put<T = any, D = any>(url: string, data?: D, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A PATCH request with body `data` (objects are sent as JSON). */
  patch<T = any, D = any>(url: string, data?: D, config?: AxiosRequestConfig<D>): Promise<AxiosResponse<T, D>>;
  /** A new instance whose defaults are these settings over this instance's. */
  create(config?: AxiosRequestConfig): Axios;
  /** Whether `value` is the rejection of a refused status. */
  isAxiosError<T = any, D = any>(value: unknown): value is AxiosError<T, D>;
  /** The settings every request of this instance starts from. */
  defaults: AxiosRequestConfig;
}

/**
 * The provider's own hook request, when `claimscript serve` runs the script
 * for a provider's token hook (`POST /hooks/{provider}/{script}`): Logto
 * scripts read it as `context.hook`, Auth0 scripts as `event.hook`,
 * LoginRadius scripts as `lrObject.Hook`. The usual fields are already
 * mapped into the input (README, "Use with Okta, ZITADEL, Ory Hydra and
 * Supabase"); this is the rest. Absent outside provider hooks.
 */
interface ProviderHook {
  /** Which provider called. */
  provider: 'okta' | 'zitadel' | 'hydra' | 'supabase';
  /** The request body as the provider sent it. */
  payload: Record<string, any>;
}
