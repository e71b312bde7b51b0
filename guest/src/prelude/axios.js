// `require` for CommonJS scripts (Auth0, LoginRadius), and the one package
// it offers: `axios`, as a thin layer over `fetch`. Evaluated after
// fetch.js, whose globals it captures.
(function (native, shared) {
  'use strict';

  const { unsupported, utf8Decode, bodyJson } = shared;
  // Captured now: a script that replaces these globals does not change the
  // shim built on them.
  const { fetch, Headers, URL, URLSearchParams, AbortSignal, TextEncoder, btoa } = globalThis;
  const { isArray } = Array;
  const { fromEntries, entries } = Object;

  // What axios rejects with: `code` tells a bad status (ERR_BAD_REQUEST,
  // ERR_BAD_RESPONSE) from a timeout (ECONNABORTED), a failed request
  // (ERR_NETWORK) and a cancelled one (ERR_CANCELED).
  class AxiosError extends Error {
    constructor(message, code, config, response) {
      super(message);
      this.name = code === 'ERR_CANCELED' ? 'CanceledError' : 'AxiosError';
      this.code = code;
      this.config = config;
      this.request = {};
      this.response = response;
      this.status = response ? response.status : undefined;
      this.isAxiosError = true;
    }

    toJSON() {
      return { name: this.name, message: this.message, code: this.code, status: this.status };
    }
  }

  // Header objects: a plain object or a `Headers`, as axios accepts them.
  function headerEntries(headers) {
    if (headers === undefined || headers === null) return [];
    if (headers instanceof Headers) return [...headers];
    return entries(headers).filter(([, value]) => value !== undefined && value !== null);
  }

  // axios's default `defaults.headers`: `common` for every method, then one
  // object per method, then the config's own.
  const METHODS = ['get', 'delete', 'head', 'options', 'post', 'put', 'patch'];
  function defaultHeaders() {
    const headers = { common: { Accept: 'application/json, text/plain, */*' } };
    for (const method of METHODS) headers[method] = {};
    return headers;
  }

  // `parent` headers (`common`, per method, flat) with `more` over them; the
  // nested objects are copied, so the two instances do not share them.
  function childHeaders(parent, more) {
    const nested = (name) => name === 'common' || METHODS.includes(name);
    const headers = {};
    for (const [name, value] of entries(parent)) headers[name] = nested(name) ? { ...value } : value;
    for (const [name, value] of entries(more)) {
      headers[name] = nested(name) ? { ...headers[name], ...value } : value;
    }
    return headers;
  }

  function requestHeaders(defaults, config, method) {
    const headers = new Headers();
    const layers = [defaults.common, defaults[method]];
    // Names other than `common` and the methods are headers set on the
    // defaults directly (`axios.create({ headers: { ... } })`).
    layers.push(fromEntries(entries(defaults).filter(([name]) => name !== 'common' && !METHODS.includes(name))));
    layers.push(config.headers); // the request's own
    for (const layer of layers) {
      for (const [name, value] of headerEntries(layer)) headers.set(name, String(value));
    }
    return headers;
  }

  // axios's default parameter serialisation: arrays as `name[]=a&name[]=b`,
  // dates as ISO strings, other objects as JSON.
  function appendParams(target, params) {
    if (params instanceof URLSearchParams) {
      for (const [name, value] of params) target.append(name, value);
      return;
    }
    const one = (value) => (value instanceof Date ? value.toISOString()
      : value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value));
    for (const [name, value] of entries(params)) {
      if (value === undefined || value === null) continue;
      if (isArray(value)) {
        for (const item of value) if (item !== undefined && item !== null) target.append(`${name}[]`, one(item));
      } else {
        target.append(name, one(value));
      }
    }
  }

  function basicAuth({ username = '', password = '' }) {
    const bytes = new TextEncoder().encode(`${username}:${password}`);
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return `Basic ${btoa(binary)}`;
  }

  // The error a failed `fetch` becomes.
  function failure(error, config, timedOut) {
    if (error instanceof AxiosError) return error;
    if (timedOut) return new AxiosError(`timeout of ${config.timeout}ms exceeded`, 'ECONNABORTED', config);
    if (error && error.name === 'AbortError') return new AxiosError('canceled', 'ERR_CANCELED', config);
    const wrapped = new AxiosError(error && error.message ? error.message : 'Network Error', 'ERR_NETWORK', config);
    wrapped.cause = error;
    return wrapped;
  }

  function createAxios(defaults) {
    async function request(config) {
      const ownHeaders = config && config.headers;
      config = { ...defaults, ...config, headers: ownHeaders };
      const method = String(config.method || 'get').toLowerCase();
      let url = String(config.url);
      if (config.baseURL && !/^[a-z][a-z0-9+.-]*:/i.test(url)) {
        url = `${String(config.baseURL).replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
      }
      if (config.params) {
        const target = new URL(url);
        appendParams(target.searchParams, config.params);
        url = target.href;
      }
      const headers = requestHeaders(defaults.headers || {}, config, method);
      if (config.auth) headers.set('authorization', basicAuth(config.auth));
      let body = config.data;
      if (body !== undefined && body !== null && typeof body === 'object'
          && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)
          && !(body instanceof URLSearchParams)) {
        body = JSON.stringify(body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      const init = { method: method.toUpperCase(), headers, body: body === null ? undefined : body };
      let timeout;
      if (config.signal) {
        init.signal = config.timeout ? AbortSignal.any([config.signal, timeout = AbortSignal.timeout(config.timeout)]) : config.signal;
      } else if (config.timeout) {
        init.signal = timeout = AbortSignal.timeout(config.timeout);
      }
      let response;
      let text;
      let bytes;
      try {
        response = await fetch(url, init);
        bytes = await response.arrayBuffer();
        text = utf8Decode(bytes);
      } catch (error) {
        throw failure(error, config, timeout !== undefined && timeout.aborted);
      }
      let data = text;
      if (config.responseType !== 'text' && text !== '') {
        try { data = bodyJson(bytes); } catch (_) { data = text; }
      }
      const responseHeaders = fromEntries(response.headers);
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) responseHeaders['set-cookie'] = cookies;
      const result = {
        data,
        status: response.status,
        statusText: response.statusText,
        headers: responseHeaders,
        config,
        request: {},
      };
      const validate = config.validateStatus === undefined ? (s) => s >= 200 && s < 300 : config.validateStatus;
      if (validate && !validate(response.status)) {
        throw new AxiosError(`Request failed with status code ${response.status}`,
          response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config, result);
      }
      return result;
    }
    const instance = (urlOrConfig, config) => (typeof urlOrConfig === 'string'
      ? request({ ...config, url: urlOrConfig })
      : request(urlOrConfig));
    instance.request = request;
    for (const method of ['get', 'delete', 'head', 'options']) {
      instance[method] = (url, config) => request({ ...config, method, url });
    }
    for (const method of ['post', 'put', 'patch']) {
      instance[method] = (url, data, config) => request({ ...config, method, url, data });
    }
    // A new instance starts from this one's defaults, headers included.
    instance.create = (more = {}) => createAxios({
      ...defaults,
      ...more,
      headers: childHeaders(defaults.headers || defaultHeaders(), more.headers || {}),
    });
    instance.isAxiosError = (error) => Boolean(error && error.isAxiosError);
    instance.isCancel = (error) => Boolean(error && error.code === 'ERR_CANCELED');
    instance.AxiosError = AxiosError;
    instance.defaults = defaults;
    Object.defineProperty(instance, 'interceptors', {
      get() {
        throw unsupported('axios.interceptors is not supported by Claimscript\'s axios shim; '
          + 'change the config or the response in the script itself');
      },
    });
    return instance;
  }
  const axios = createAxios({ headers: defaultHeaders() });
  axios.default = axios;

  // The only package a script may require. Other names are found when the
  // script is compiled (source.rs); a computed name fails here, with the
  // message lib.rs gives at compile time.
  shared.require = function require(name) {
    if (name === 'axios') return axios;
    throw unsupported(native.requireMessage(String(name)));
  };
})
