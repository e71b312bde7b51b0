// The Claimscript playground: write a claims script, run it through the
// service's /v1/run (the production engine), share it in a link.
import './app.css';
import samples from 'virtual:samples';
import { TsClient } from './ts-client.js';
import {
  createScriptEditor,
  createJsonEditor,
  createTomlEditor,
  setText,
  goTo,
  relint,
  setRunError,
  setServerGrantsError,
} from './editors.js';
import { encodeState, decodeState } from './share.js';
import { renderMeters, renderReport, renderFailure, renderAudit, summary, el } from './render.js';

const STYLES = {
  logto: 'Logto',
  auth0: 'Auth0',
  loginradius: 'LoginRadius',
};

const $ = (id) => document.getElementById(id);

const ui = {
  style: $('style'),
  sample: $('sample'),
  run: $('run'),
  share: $('share'),
  shareBox: $('share-box'),
  shareUrl: $('share-url'),
  shareStatus: $('share-status'),
  downloadWasm: $('download-wasm'),
  downloadGrants: $('download-grants'),
  typesStatus: $('types-status'),
  outcome: $('outcome'),
  meters: $('meters'),
  result: $('result-body'),
  audit: $('audit-body'),
  notice: $('notice'),
};

const ts = new TsClient();
let running = false;

function runShortcut() {
  run();
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const editors = {
  script: createScriptEditor($('script-editor'), {
    ts,
    onRun: runShortcut,
    describedBy: 'script-help',
  }),
  token: createJsonEditor($('token-editor'), {
    label: 'Token (JSON)',
    describedBy: 'token-help',
    onRun: runShortcut,
    check: (v) => (isObject(v) ? null : 'the token must be a JSON object'),
  }),
  context: createJsonEditor($('context-editor'), {
    label: 'Context (JSON)',
    describedBy: 'context-help',
    hint: 'Empty: no context is sent (a machine-to-machine token has none).',
    optional: true,
    onRun: runShortcut,
    check: (v) => (isObject(v) ? null : 'the context must be a JSON object (or leave it empty)'),
  }),
  environmentVariables: createJsonEditor($('env-editor'), {
    label: 'Environment variables (JSON)',
    describedBy: 'env-help',
    hint: 'Empty: no environment variables. Example: { "API_KEY": "k_123" }',
    optional: true,
    onRun: runShortcut,
    check: (v) =>
      !isObject(v)
        ? 'the environment variables must be a JSON object'
        : Object.entries(v).find(([, x]) => typeof x !== 'string')
          ? `environment variable ${Object.entries(v).find(([, x]) => typeof x !== 'string')[0]} must be a string`
          : null,
  }),
  grants: createTomlEditor($('grants-editor'), {
    label: 'Grants (TOML)',
    describedBy: 'grants-help',
    hint: [
      '# Empty: the defaults. For example:',
      '# fuel = 50_000_000',
      '# timeout_ms = 1000',
      '# memory_mb = 32',
      '# max_output_bytes = 51200',
      '# [env]',
      '# expose = ["API_KEY"]',
      '# [fetch]',
      '# allow = ["https://api.example.com"]',
      '# max_requests = 5',
    ].join('\n'),
    onRun: runShortcut,
  }),
};

// ---- state -----------------------------------------------------------------------------

function currentState() {
  return {
    style: ui.style.value,
    script: editors.script.state.doc.toString(),
    token: editors.token.state.doc.toString(),
    context: editors.context.state.doc.toString(),
    environmentVariables: editors.environmentVariables.state.doc.toString(),
    grants: editors.grants.state.doc.toString(),
  };
}

function applyState(state) {
  if (STYLES[state.style]) ui.style.value = state.style;
  for (const key of ['script', 'token', 'context', 'environmentVariables', 'grants']) {
    setText(editors[key], state[key] ?? '');
  }
  editors.script.dispatch({ effects: setRunError.of(null) });
  loadTypes(ui.style.value);
}

function notice(text, kind = 'info') {
  ui.notice.textContent = text;
  ui.notice.dataset.kind = kind;
  ui.notice.hidden = !text;
}

// ---- samples ------------------------------------------------------------------------------

function fillSamples() {
  const groups = [
    ...Object.entries(STYLES).map(([style, name]) => [name, samples.filter((s) => s.group === 'examples' && s.style === style)]),
    ['Provider hook payloads', samples.filter((s) => s.group === 'hooks')],
  ];
  ui.sample.replaceChildren(
    el('option', { value: '', text: 'Choose a sample…' }),
    ...groups
      .filter(([, list]) => list.length > 0)
      .map(([label, list]) => el('optgroup', { label }, list.map((s) => el('option', { value: s.id, text: s.title })))),
  );
}

function loadSample(id) {
  const sample = samples.find((s) => s.id === id);
  if (!sample) return;
  applyState(sample);
  clearResult(`Loaded the sample from ${sample.source}. Press Run or Ctrl+Enter.`);
}

// ---- declarations (GET /v1/types/{style}) -------------------------------------------------

const typesCache = new Map();
let typesWanted = null;

async function loadTypes(style) {
  typesWanted = style;
  ui.typesStatus.textContent = `Loading the ${STYLES[style]} declarations…`;
  try {
    let dts = typesCache.get(style);
    if (dts === undefined) {
      const response = await fetch(`/v1/types/${encodeURIComponent(style)}`);
      if (!response.ok) throw new Error(`GET /v1/types/${style} answered ${response.status}`);
      dts = await response.text();
      typesCache.set(style, dts);
    }
    if (typesWanted !== style) return;
    await ts.request('types', { dts, tag: style });
    if (typesWanted !== style) return;
    ui.typesStatus.textContent = `Checked against the ${STYLES[style]} declarations (claimscript types --style ${style}).`;
    ui.typesStatus.dataset.ready = style;
    relint(editors.script);
  } catch (error) {
    if (typesWanted === style) {
      ui.typesStatus.textContent = `No type checking: ${error.message}`;
      delete ui.typesStatus.dataset.ready;
    }
  }
}

// ---- run --------------------------------------------------------------------------------------

function parseInput() {
  const input = {};
  for (const [key, label] of [
    ['token', 'Token'],
    ['context', 'Context'],
    ['environmentVariables', 'Environment variables'],
  ]) {
    const text = editors[key].state.doc.toString();
    if (text.trim() === '') {
      if (key === 'token') throw { editor: key, message: 'Token: required (a JSON object)' };
      continue;
    }
    try {
      input[key] = JSON.parse(text);
    } catch (error) {
      throw { editor: key, message: `${label}: ${error.message}` };
    }
  }
  return input;
}

function clearResult(text) {
  ui.outcome.textContent = text;
  ui.outcome.dataset.outcome = 'none';
  ui.result.replaceChildren();
  renderMeters(ui.meters, null);
}

async function postJson(path, body) {
  return fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function errorBody(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch {
    // not JSON
  }
  return { code: `http_${response.status}`, message: `the server answered ${response.status} ${response.statusText}` };
}

function showTab(name) {
  const tab = $(`tab-${name}`);
  if (tab) selectTab(tab, false);
}

async function run() {
  if (running) return;
  let input;
  try {
    input = parseInput();
  } catch (problem) {
    showTab(problem.editor === 'environmentVariables' ? 'env' : problem.editor);
    ui.outcome.dataset.outcome = 'invalid';
    ui.outcome.textContent = `Not run: ${problem.message}`;
    return;
  }
  running = true;
  ui.run.disabled = true;
  ui.run.setAttribute('aria-busy', 'true');
  ui.outcome.dataset.outcome = 'running';
  ui.outcome.textContent = 'Running…';
  editors.script.dispatch({ effects: setRunError.of(null) });
  const state = currentState();
  const body = { source: state.script, style: state.style, input, sign: true, audit: true };
  if (state.grants.trim() !== '') body.grants = state.grants;
  try {
    const response = await postJson('/v1/run', body);
    if (!response.ok) {
      const error = await errorBody(response);
      ui.outcome.dataset.outcome = 'rejected';
      ui.outcome.textContent = `Not run: ${error.message}`;
      renderMeters(ui.meters, null);
      const where = error.line ? `line ${error.line}${error.column ? `, column ${error.column}` : ''}` : null;
      renderFailure(ui.result, `Rejected (${response.status} ${error.code})`, error.message, where ? `At ${where}.` : null);
      if (error.code === 'invalid_grants') {
        showTab('grants');
        editors.grants.dispatch({
          effects: setServerGrantsError.of({ line: error.line ?? 1, column: error.column, message: error.message }),
        });
      }
      if (response.status === 503) {
        const retry = response.headers.get('retry-after');
        ui.outcome.textContent = `The server is busy${retry ? `; try again in ${retry} s` : ''}.`;
      }
      return;
    }
    const report = await response.json();
    ui.outcome.dataset.outcome = report.outcome;
    ui.outcome.textContent = summary(report);
    renderMeters(ui.meters, report);
    renderReport(ui.result, report, { onGoTo: (line, column) => goTo(editors.script, line, column) });
    if (report.audit) renderAudit(ui.audit, report.audit);
    if (report.outcome === 'error' && report.error?.line) {
      editors.script.dispatch({ effects: setRunError.of(report.error) });
    }
  } catch (error) {
    ui.outcome.dataset.outcome = 'rejected';
    ui.outcome.textContent = `Not run: the server could not be reached (${error.message}).`;
    renderFailure(ui.result, 'No answer', `The server could not be reached: ${error.message}`);
  } finally {
    running = false;
    ui.run.disabled = false;
    ui.run.removeAttribute('aria-busy');
  }
}

// ---- share and downloads -----------------------------------------------------------------------

async function share() {
  const fragment = encodeState(currentState());
  history.replaceState(null, '', fragment);
  ui.shareBox.hidden = false;
  ui.shareUrl.value = location.href;
  ui.shareUrl.focus();
  ui.shareUrl.select();
  try {
    await navigator.clipboard.writeText(location.href);
    ui.shareStatus.textContent = `Link copied (${fragment.length} characters). It holds the whole state; nothing is stored on a server.`;
  } catch {
    ui.shareStatus.textContent = `Copy the link above (${fragment.length} characters). It holds the whole state; nothing is stored on a server.`;
  }
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function downloadWasm() {
  const state = currentState();
  ui.downloadWasm.disabled = true;
  try {
    const response = await postJson('/v1/compile', { source: state.script, style: state.style });
    if (!response.ok) {
      const error = await errorBody(response);
      notice(`Not compiled: ${error.kind ? `${error.kind}: ` : ''}${error.message}`, 'error');
      if (error.line) editors.script.dispatch({ effects: setRunError.of({ kind: error.kind ?? 'compile_error', message: error.message, line: error.line, column: error.column }) });
      return;
    }
    const bytes = await response.blob();
    download(new Blob([bytes], { type: 'application/wasm' }), 'script.wasm');
    notice(`Downloaded script.wasm (${bytes.size} bytes): run it with claimscript run script.wasm --input INPUT.json.`);
  } catch (error) {
    notice(`Not compiled: the server could not be reached (${error.message}).`, 'error');
  } finally {
    ui.downloadWasm.disabled = false;
  }
}

function downloadGrants() {
  download(new Blob([currentState().grants], { type: 'application/toml' }), 'grants.toml');
  notice('Downloaded grants.toml.');
}

// ---- tabs (WAI-ARIA tabs pattern: arrows, Home, End) ----------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];

function selectTab(tab, focus = true) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute('aria-selected', String(selected));
    t.tabIndex = selected ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
}

for (const tab of tabs) {
  tab.addEventListener('click', () => selectTab(tab));
  tab.addEventListener('keydown', (event) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length]);
  });
}

// ---- wiring ---------------------------------------------------------------------------------------

ui.run.addEventListener('click', run);
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  editors.script.focus();
});
ui.share.addEventListener('click', share);
ui.downloadWasm.addEventListener('click', downloadWasm);
ui.downloadGrants.addEventListener('click', downloadGrants);
ui.style.addEventListener('change', () => loadTypes(ui.style.value));
ui.sample.addEventListener('change', () => {
  loadSample(ui.sample.value);
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
    event.preventDefault();
    run();
  }
});

function restore() {
  let state = null;
  try {
    state = decodeState(location.hash);
  } catch (error) {
    notice(`${error.message} The default sample is shown instead.`, 'error');
  }
  if (state) {
    ui.sample.value = '';
    applyState(state);
    clearResult('Restored from the link. Press Run or Ctrl+Enter.');
    notice('');
  } else {
    ui.sample.value = samples[0].id;
    applyState(samples[0]);
    clearResult('Not run yet. Press Run or Ctrl+Enter.');
  }
}

window.addEventListener('hashchange', restore);
fillSamples();
renderAudit(ui.audit, null);
restore();
// Read-only view of the state for the browser tests (test/playground.test.mjs).
window.claimscriptPlayground = { state: currentState };
document.body.dataset.ready = 'true';
