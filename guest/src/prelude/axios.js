// `require` for CommonJS scripts (Auth0, LoginRadius), and the one package
// it offers: `axios`, as a thin layer over `fetch`. Evaluated after
// fetch.js, whose globals it captures.
(function (native, shared) {
  'use strict';

  const { unsupported } = shared;
  // Captured now: a script that replaces these globals does not change the
  // shim built on them.
  const { fetch, Headers, URL, URLSearchParams, AbortSignal } = globalThis;

  // `axios` as a thin layer over `fetch`: the request goes through the same
  // grants and address guard. Responses are `{ data, status, statusText,
  // headers, config }`; a status outside 2xx rejects with an AxiosError-like
  // error carrying `response`, as axios does.
  function createAxios(defaults) {
    async function request(config) {
      config = { ...defaults, ...config, headers: { ...(defaults.headers || {}), ...(config.headers || {}) } };
      const method = String(config.method || 'get').toUpperCase();
      let url = String(config.url);
      if (config.baseURL && !/^[a-z][a-z0-9+.-]*:/i.test(url)) {
        url = `${String(config.baseURL).replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
      }
      if (config.params) {
        const target = new URL(url);
        for (const [name, value] of Object.entries(config.params)) {
          if (value !== undefined && value !== null) target.searchParams.append(name, String(value));
        }
        url = target.href;
      }
      const headers = new Headers(config.headers);
      let body = config.data;
      if (body !== undefined && body !== null && typeof body === 'object'
          && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)
          && !(body instanceof URLSearchParams)) {
        body = JSON.stringify(body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain, */*');
      const init = { method, headers, body: body === null ? undefined : body };
      if (config.signal) init.signal = config.signal;
      else if (config.timeout) init.signal = AbortSignal.timeout(config.timeout);
      const response = await fetch(url, init);
      const text = await response.text();
      let data = text;
      if (config.responseType !== 'text' && text !== '') {
        try { data = JSON.parse(text); } catch (_) { data = text; }
      }
      const result = {
        data,
        status: response.status,
        statusText: response.statusText,
        headers: Object.fromEntries(response.headers),
        config,
        request: {},
      };
      const validate = config.validateStatus === undefined ? (s) => s >= 200 && s < 300 : config.validateStatus;
      if (validate && !validate(response.status)) {
        const error = new Error(`Request failed with status code ${response.status}`);
        error.name = 'AxiosError';
        error.code = response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST';
        error.isAxiosError = true;
        error.config = config;
        error.response = result;
        throw error;
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
    instance.create = (more) => createAxios({ ...defaults, ...more });
    instance.isAxiosError = (error) => Boolean(error && error.isAxiosError);
    instance.defaults = defaults;
    return instance;
  }
  const axios = createAxios({ headers: {} });

  // The only package a script may require. Other names are found when the
  // script is compiled (source.rs); a computed name fails here.
  shared.require = function require(name) {
    if (name === 'axios') return axios;
    throw unsupported(`require('${name}'): packages are not available in Claimscript; only 'axios' is (a shim over fetch)`);
  };
})
