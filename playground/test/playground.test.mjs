// The playground in a real browser: Debian's Chromium driven by playwright-core,
// against the real server (`claimscript playground --addr 127.0.0.1:0`).
//
//   CLAIMSCRIPT_BIN=target/debug/claimscript node --test playground/test/playground.test.mjs
//
// Environment: CLAIMSCRIPT_BIN (default: ../target/debug/claimscript from
// playground/), CHROMIUM (default /usr/bin/chromium), SCREENSHOT (default
// ../docs/playground.png; "none" to skip).
// Network: the page talks only to the server this test starts on 127.0.0.1;
// every request the page makes is recorded and checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const BIN = process.env.CLAIMSCRIPT_BIN
  ? path.resolve(process.env.CLAIMSCRIPT_BIN)
  : path.join(repo, 'target/debug/claimscript');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.SCREENSHOT ?? path.join(repo, 'docs/playground.png');

let server;
let baseUrl;
let origin;
let browser;
const requests = [];

/** Starts the server; resolves with the playground URL from its first stdout line. */
function startServer() {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(BIN)) {
      reject(new Error(`no claimscript binary at ${BIN}: build it (cargo build -p claimscript-cli) or set CLAIMSCRIPT_BIN`));
      return;
    }
    const child = spawn(BIN, ['playground', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no URL within 60 s; stderr: ${err}`)), 60000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before printing its URL; stdout: ${out} stderr: ${err}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      const first = out.slice(0, newline);
      const m = /^claimscript: playground at (http:\/\/127\.0\.0\.1:\d+\/playground\/)\s*$/.exec(first);
      clearTimeout(timer);
      if (!m) reject(new Error(`unexpected first line from the server: ${JSON.stringify(first)}`));
      else resolve(m[1]);
    });
  });
}

before(async () => {
  baseUrl = await startServer();
  origin = new URL(baseUrl).origin;
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium chromium-driver (or set CHROMIUM)`);
  }
  // Playwright gives every launch a fresh temporary --user-data-dir.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) server.kill('SIGTERM');
});

/** A fresh page (own context: no shared storage) with the playground loaded. */
async function openPage(url = baseUrl, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, ...options });
  const page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Console errors too: a Content-Security-Policy violation shows up there.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  page.pageErrors = errors;
  return page;
}

/** Closes a page's context, after checking the page raised no error. */
async function closePage(page) {
  const errors = page.pageErrors;
  await page.context().close();
  assert.deepEqual(errors, [], 'errors in the page');
}

async function waitTypes(page, style) {
  await page.waitForSelector(`#types-status[data-ready="${style}"]`, { timeout: 60000 });
}

const state = (page) => page.evaluate(() => window.claimscriptPlayground.state());

/** Replaces the script editor's text (as a paste would: no auto-closing brackets). */
async function setScript(page, text) {
  await page.click('#script-editor .cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  assert.equal((await state(page)).script, text);
}

async function selectTab(page, name) {
  await page.click(`#tab-${name}`);
}

async function setEditor(page, tab, editorId, text) {
  await selectTab(page, tab);
  await page.click(`#${editorId} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  if (text) await page.keyboard.insertText(text);
}

async function runAndWait(page, how = 'button') {
  if (how === 'button') await page.click('#run');
  else await page.keyboard.press('Control+Enter');
  await page.waitForFunction(() => {
    const o = document.getElementById('outcome').dataset.outcome;
    return o !== 'none' && o !== 'running';
  }, null, { timeout: 30000 });
  return page.$eval('#outcome', (e) => e.dataset.outcome);
}

const meter = (page, id) =>
  page.$eval(`#meter-${id}`, (m) => ({ value: m.value, max: m.max, text: m.getAttribute('aria-valuetext') }));

test('type a script, run it, see the claims, the meters, the token and the audit', { timeout: 120000 }, async () => {
  const page = await openPage();
  assert.equal(await page.title(), 'Claimscript playground');
  await waitTypes(page, 'logto');
  // Typed key by key, as a person would.
  await page.click('#script-editor .cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  const script = "const getCustomJwtClaims = async ({ context }) => ({ hello: 'world', user: context.user.username, sub: 'x' });";
  await page.keyboard.type(script);
  await page.keyboard.press('Escape');
  assert.equal((await state(page)).script, script);

  assert.equal(await runAndWait(page), 'claims');
  const claims = JSON.parse(await page.$eval('#claims-json', (e) => e.textContent));
  assert.deepEqual(claims, { hello: 'world', user: 'ada' });
  // `sub` is protected: dropped, and the page says why.
  const dropped = await page.$eval('#dropped', (e) => e.textContent);
  assert.match(dropped, /sub/);
  assert.match(dropped, /protected claim/);
  assert.match(await page.$eval('#outcome', (e) => e.textContent), /Claims: 2 claims, 1 dropped/);

  // Meters against the limits the server reported.
  const fuel = await meter(page, 'fuel');
  assert.ok(fuel.value > 0 && fuel.value < fuel.max, `fuel meter ${JSON.stringify(fuel)}`);
  assert.equal(fuel.max, 50_000_000);
  const memory = await meter(page, 'memory');
  assert.ok(memory.value > 0 && memory.max === 32 * 1024 * 1024, `memory meter ${JSON.stringify(memory)}`);
  const output = await meter(page, 'output');
  assert.equal(output.value, JSON.stringify(claims).length);
  assert.equal(output.max, 51200);
  const time = await meter(page, 'time');
  assert.ok(time.value > 0 && time.max === 1_000_000, `time meter ${JSON.stringify(time)}`);

  // The signed token: a compact JWS whose decoded payload holds the claims.
  const jwt = await page.$eval('.jwt', (e) => e.textContent);
  assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const payload = JSON.parse(await page.$eval('#token-payload', (e) => e.textContent));
  assert.equal(payload.hello, 'world');
  const header = JSON.parse(await page.$eval('#token-header', (e) => e.textContent));
  assert.equal(header.alg, 'ES256');

  // The audit beside the grants: no fetch grant, so no egress.
  await selectTab(page, 'grants');
  const audit = await page.$eval('#audit-body', (e) => e.textContent);
  assert.match(audit, /No egress/);
  assert.match(audit, /read one environment variable/);
  await closePage(page);
});

test('a syntax error marks its line in the editor (run with Ctrl+Enter)', { timeout: 120000 }, async () => {
  const page = await openPage();
  await setScript(page, [
    'const getCustomJwtClaims = async ({ context }) => {',
    '  const name = context.user.name;',
    '  return { name: name name };',
    '};',
  ].join('\n'));
  assert.equal(await runAndWait(page, 'keyboard'), 'error');
  assert.equal(await page.$eval('#error-kind', (e) => e.textContent), 'syntax');
  // The third line of the editor carries the mark and the message.
  const marked = await page.$$eval('#script-editor .cm-line', (lines) =>
    lines.map((l, i) => (l.classList.contains('cm-run-error-line') ? i + 1 : 0)).filter(Boolean),
  );
  assert.deepEqual(marked, [3]);
  const message = await page.$eval('#script-editor .cm-run-error-message', (e) => e.textContent);
  assert.match(message, /^syntax: SyntaxError/);
  assert.match(await page.$eval('#outcome', (e) => e.textContent), /line 3/);
  // "Go to the line" puts the cursor there.
  await page.click('#error button.link');
  const cursorLine = await page.evaluate(() => {
    const sel = window.getSelection();
    const line = sel.anchorNode.parentElement.closest('.cm-line');
    return [...document.querySelectorAll('#script-editor .cm-line')].indexOf(line) + 1;
  });
  assert.equal(cursorLine, 3);
  await closePage(page);
});

test('a runtime error shows its kind and message and marks its line', { timeout: 120000 }, async () => {
  const page = await openPage();
  await setScript(page, [
    'const getCustomJwtClaims = async ({ context }) => {',
    "  console.info('about to fail');",
    "  throw new Error('no roles for ' + context.user.username);",
    '};',
  ].join('\n'));
  assert.equal(await runAndWait(page), 'error');
  assert.equal(await page.$eval('#error-kind', (e) => e.textContent), 'script');
  assert.equal(await page.$eval('#error-message', (e) => e.textContent), 'Error: no roles for ada');
  const marked = await page.$$eval('#script-editor .cm-line', (lines) =>
    lines.map((l, i) => (l.classList.contains('cm-run-error-line') ? i + 1 : 0)).filter(Boolean),
  );
  assert.deepEqual(marked, [3]);
  // The console record, with its level.
  const logs = await page.$$eval('#logs li', (els) => els.map((e) => [e.dataset.level, e.querySelector('.message').textContent]));
  assert.deepEqual(logs, [['info', 'about to fail']]);
  await closePage(page);
});

test('a denial shows its message (samples: Logto and LoginRadius)', { timeout: 120000 }, async () => {
  const page = await openPage();
  await page.selectOption('#sample', 'logto-deny');
  assert.equal(await runAndWait(page), 'denied');
  assert.equal(await page.$eval('#denial-message', (e) => e.textContent), 'Your balance is exhausted; top up to continue.');
  assert.match(await page.$eval('#outcome', (e) => e.textContent), /^Denied: Your balance is exhausted/);

  await page.selectOption('#sample', 'loginradius-no-email');
  assert.equal((await state(page)).style, 'loginradius');
  await waitTypes(page, 'loginradius');
  assert.equal(await runAndWait(page), 'denied');
  assert.equal(await page.$eval('#denial-message', (e) => e.textContent), 'email required');
  assert.match(await page.$eval('#denial', (e) => e.textContent), /code 400 · title Validation/);
  await closePage(page);
});

test('Auth0 post-login: access and ID token claims, scope changes', { timeout: 120000 }, async () => {
  const page = await openPage();
  await page.selectOption('#sample', 'auth0-post-login');
  assert.equal(await runAndWait(page), 'claims');
  assert.deepEqual(JSON.parse(await page.$eval('#claims-json', (e) => e.textContent)), {
    'https://acme.test/roles': ['admin', 'analyst', 'billing'],
  });
  assert.deepEqual(JSON.parse(await page.$eval('#id-claims-json', (e) => e.textContent)), { nickname: 'ada' });
  assert.match(await page.$eval('#scopes', (e) => e.textContent), /Added: admin:reports/);
  await closePage(page);
});

test('the fetch trail, console levels and the audit\'s warnings', { timeout: 120000 }, async () => {
  const page = await openPage();
  // Nothing leaves the machine: the URL is not granted, so the host refuses
  // it before any lookup; the grant names only a closed loopback port.
  await setScript(page, [
    'const getCustomJwtClaims = async () => {',
    "  console.warn('asking');",
    '  try {',
    "    await fetch('https://api.example.com/v1/balance?user=1');",
    '  } catch (e) {',
    '    console.error(String(e));',
    '  }',
    '  return { asked: true };',
    '};',
  ].join('\n'));
  await setEditor(page, 'grants', 'grants-editor', '[fetch]\nallow = ["http://127.0.0.1:1"]\nmax_requests = 1\n');
  assert.equal(await runAndWait(page), 'claims');
  const rows = await page.$$eval('#fetches tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 1);
  assert.equal(rows[0][0], 'GET');
  assert.equal(rows[0][1], 'https://api.example.com:443/v1/balance');
  assert.match(rows[0][2], /^refused: not granted/);
  assert.equal(await page.$eval('#fetches tbody td[data-refused]', (e) => e.dataset.refused), 'not_granted');
  const logs = await page.$$eval('#logs li', (els) => els.map((e) => e.dataset.level));
  assert.deepEqual(logs, ['warn', 'error']);
  const warnings = await page.$$eval('#audit-warnings li code', (els) => els.map((e) => e.textContent));
  assert.ok(warnings.includes('opens_non_public_address') && warnings.includes('plain_http'), warnings.join(', '));
  assert.match(await page.$eval('#audit-body', (e) => e.textContent), /http:\/\/127\.0\.0\.1:1 — /);
  await closePage(page);
});

test('provider hook samples (Okta, ZITADEL, Ory Hydra, Supabase) run', { timeout: 120000 }, async () => {
  const page = await openPage();
  const hooks = await page.$$eval('#sample optgroup[label="Provider hook payloads"] option', (os) => os.map((o) => o.value));
  for (const provider of ['okta', 'zitadel', 'hydra', 'supabase']) {
    assert.ok(hooks.some((id) => id.startsWith(`hook-${provider}-`)), `a ${provider} sample in ${hooks.join(', ')}`);
  }
  await page.selectOption('#sample', 'hook-zitadel-preaccesstoken');
  assert.equal(await runAndWait(page), 'claims');
  assert.deepEqual(JSON.parse(await page.$eval('#claims-json', (e) => e.textContent)), {
    email: 'user@example.com',
    roles: ['admin'],
    organization: 'ZITADEL',
  });
  await page.selectOption('#sample', 'hook-okta-client-credentials');
  assert.equal(await runAndWait(page), 'claims');
  assert.deepEqual(JSON.parse(await page.$eval('#claims-json', (e) => e.textContent)), {
    machine: true,
    client: '0oaM2mServiceClient',
  });
  await closePage(page);
});

test('fuel exhaustion fills the fuel meter', { timeout: 120000 }, async () => {
  const page = await openPage();
  await setScript(page, 'const getCustomJwtClaims = async () => {\n  for (;;) {}\n};\n');
  await setEditor(page, 'grants', 'grants-editor', 'fuel = 2_000_000\n');
  assert.equal(await runAndWait(page), 'error');
  assert.equal(await page.$eval('#error-kind', (e) => e.textContent), 'fuel_exhausted');
  const fuel = await meter(page, 'fuel');
  assert.equal(fuel.max, 2_000_000, 'the limit comes from the grants');
  assert.equal(fuel.value, fuel.max, `fuel meter ${JSON.stringify(fuel)}`);
  assert.match(fuel.text, /100\.0%.*exhausted/);
  assert.ok(await page.$('.meter-row.hit[data-meter="fuel"]'));
  // The audit shows the budget the grants set.
  assert.match(await page.$eval('#audit-body', (e) => e.textContent), /fuel2,000,000/);
  await closePage(page);
});

/** The 1-based line of the editor at which the (first) error marker of its lint gutter sits. */
async function lintMarkerLine(page, editorId) {
  await page.waitForSelector(`#${editorId} .cm-lint-marker-error`, { timeout: 10000 });
  return page.evaluate((id) => {
    const marker = document.querySelector(`#${id} .cm-lint-marker-error`).closest('.cm-gutterElement');
    const top = marker.getBoundingClientRect().top;
    const lines = [...document.querySelectorAll(`#${id} .cm-line`)];
    return lines.findIndex((l) => Math.abs(l.getBoundingClientRect().top - top) < 2) + 1;
  }, editorId);
}

test('inputs are checked as you type; the server\'s 422 on grants is shown at its line', { timeout: 120000 }, async () => {
  const page = await openPage();
  // JSON: the error at its line, and no run while it stands.
  await setEditor(page, 'env', 'env-editor', '{\n  "A": "1",\n  "B": 2 3\n}\n');
  assert.equal(await lintMarkerLine(page, 'env-editor'), 3);
  assert.equal(await runAndWait(page), 'invalid');
  assert.match(await page.$eval('#outcome', (e) => e.textContent), /^Not run: Environment variables: /);
  await setEditor(page, 'env', 'env-editor', '{ "A": 1 }');
  assert.equal(await lintMarkerLine(page, 'env-editor'), 1);
  await setEditor(page, 'env', 'env-editor', '');

  // TOML: a syntax error and an unknown key, each at its line.
  await setEditor(page, 'grants', 'grants-editor', 'fuel = 1000\ntimeout_ms = = 3\n');
  assert.equal(await lintMarkerLine(page, 'grants-editor'), 2);
  await setEditor(page, 'grants', 'grants-editor', 'fuel = 1000\n[fetch]\nallow = ["https://api.example.com"]\nretries = 3\n');
  assert.equal(await lintMarkerLine(page, 'grants-editor'), 4);
  // The server is the authority: its 422 invalid_grants, with its line.
  assert.equal(await runAndWait(page), 'rejected');
  assert.match(await page.$eval('#failure-message', (e) => e.textContent), /retries/);
  const failure = await page.$eval('#failure', (e) => e.textContent);
  assert.match(failure, /422 invalid_grants/);
  assert.match(failure, /At line 4/);
  await closePage(page);
});

test('a share link restores the same state in a new page', { timeout: 120000 }, async () => {
  const page = await openPage();
  await page.selectOption('#sample', 'auth0-post-login');
  await waitTypes(page, 'auth0');
  await setScript(page, (await state(page)).script + '\n// shared from the test ✓\n');
  await setEditor(page, 'grants', 'grants-editor', 'fuel = 12_345_678\ntimeout_ms = 900\n');
  await setEditor(page, 'env', 'env-editor', '{ "GREETING": "héllo" }\n');
  await setEditor(page, 'context', 'context-editor', '');
  const before = await state(page);
  assert.equal(before.style, 'auth0');

  await page.click('#share');
  const url = await page.$eval('#share-url', (e) => e.value);
  const hash = new URL(url).hash;
  assert.match(hash, /^#s=[\w-]+$/, 'compressed, base64url');
  assert.ok(!url.includes('onExecutePostLogin'), 'the script is not in the link in clear');
  assert.ok(hash.length < JSON.stringify(before).length, 'the link is compressed');

  const other = await openPage(url);
  await waitTypes(other, 'auth0');
  assert.deepEqual(await state(other), before);
  assert.equal(await other.$eval('#style', (e) => e.value), 'auth0');
  assert.match(await other.$eval('#outcome', (e) => e.textContent), /Restored from the link/);
  await closePage(other);
  await closePage(page);
});

test('completion offers the fields after `context.user.`', { timeout: 120000 }, async () => {
  const page = await openPage();
  await waitTypes(page, 'logto');
  await setScript(page, [
    "/** @type {GetCustomJwtClaims<'AccessToken'>} */",
    'const getCustomJwtClaims = async ({ context }) => {',
    '  const email = ',
    '  return { email };',
    '};',
  ].join('\n'));
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.type('context.user.');
  await page.waitForSelector('.cm-tooltip-autocomplete', { timeout: 30000 });
  const options = await page.$$eval('.cm-tooltip-autocomplete li .cm-completionLabel', (els) => els.map((e) => e.textContent));
  for (const field of ['primaryEmail', 'roles', 'organizations', 'customData', 'username']) {
    assert.ok(options.includes(field), `${field} in ${options.join(', ')}`);
  }
  await page.keyboard.type('primaryE');
  await page.waitForFunction(() => {
    const selected = document.querySelector('.cm-tooltip-autocomplete li[aria-selected] .cm-completionLabel');
    return selected && selected.textContent === 'primaryEmail';
  }, null, { timeout: 10000 });
  await page.keyboard.press('Enter');
  assert.match((await state(page)).script, /const email = context\.user\.primaryEmail\n/);
  await closePage(page);
});

test('a misspelt property is underlined, with TypeScript\'s suggestion', { timeout: 120000 }, async () => {
  const page = await openPage();
  await waitTypes(page, 'logto');
  await setScript(page, [
    "/** @type {GetCustomJwtClaims<'AccessToken'>} */",
    'const getCustomJwtClaims = async ({ context }) => {',
    '  return { email: context.user.primaryEmial };',
    '};',
  ].join('\n'));
  const underlined = await page.waitForFunction(() => {
    const els = [...document.querySelectorAll('#script-editor .cm-lintRange-error')];
    return els.length > 0 ? els.map((e) => e.textContent) : null;
  }, null, { timeout: 60000 });
  assert.deepEqual(await underlined.jsonValue(), ['primaryEmial']);
  await page.hover('#script-editor .cm-lintRange-error');
  await page.waitForSelector('.cm-tooltip-lint', { timeout: 10000 });
  assert.match(await page.$eval('.cm-tooltip-lint', (e) => e.textContent), /Did you mean 'primaryEmail'\?/);
  // The samples type-check clean: no error underline in the RBAC example.
  await page.selectOption('#sample', 'logto-rbac');
  await page.waitForFunction(() => document.querySelectorAll('#script-editor .cm-lintRange-error').length === 0, null, { timeout: 30000 });
  await closePage(page);
});

test('every sample type-checks clean against its style\'s declarations', { timeout: 240000 }, async () => {
  const page = await openPage();
  const ids = await page.$$eval('#sample option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(ids.length >= 12, `samples: ${ids.join(', ')}`);
  for (const id of ids) {
    await page.selectOption('#sample', id);
    const { style, script } = await state(page);
    await waitTypes(page, style);
    const checked = await page.waitForFunction(
      (prefix) => {
        const v = document.querySelector('#script-editor .cm-editor').dataset.tsChecked;
        return v && v.startsWith(prefix) ? v : null;
      },
      `${style}:${script.length}:`,
      { timeout: 60000 },
    );
    assert.equal(await checked.jsonValue(), `${style}:${script.length}:0`, `${id} (${style}) has type errors`);
  }
  await closePage(page);
});

test('labelled for screen readers, usable by keyboard, light and dark', { timeout: 120000 }, async () => {
  const page = await openPage();
  const labels = await page.$$eval('.cm-content', (els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(labels, ['Script (JavaScript)', 'Token (JSON)', 'Context (JSON)', 'Environment variables (JSON)', 'Grants (TOML)']);
  assert.equal(await page.$eval('#outcome', (e) => e.getAttribute('aria-live')), 'polite');
  for (const id of ['style', 'sample', 'share-url']) {
    assert.equal(await page.$$eval(`label[for="${id}"]`, (l) => l.length), 1, `label for #${id}`);
  }
  // The skip link puts the focus in the script editor.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Script (JavaScript)');
  // Tabs by arrow keys.
  await page.focus('#tab-token');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-context');
  assert.equal(await page.$eval('#panel-context', (e) => e.hidden), false);
  assert.equal(await page.$eval('#panel-token', (e) => e.hidden), true);
  // Escape then Tab leaves the script editor.
  await page.click('#script-editor .cm-content');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  assert.notEqual(await page.evaluate(() => document.activeElement.closest('#script-editor') !== null), true);
  // Light by default, dark when the system asks for it.
  const bgLight = await page.$eval('body', (e) => getComputedStyle(e).backgroundColor);
  await page.emulateMedia({ colorScheme: 'dark' });
  const bgDark = await page.$eval('body', (e) => getComputedStyle(e).backgroundColor);
  assert.equal(bgLight, 'rgb(246, 247, 249)');
  assert.equal(bgDark, 'rgb(13, 17, 23)');
  await closePage(page);
});

test('download the compiled component', { timeout: 120000 }, async () => {
  const page = await openPage();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-wasm')]);
  assert.equal(download.suggestedFilename(), 'script.wasm');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'playground-')), 'script.wasm');
  await download.saveAs(file);
  const bytes = fs.readFileSync(file);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'a WebAssembly binary');
  const [grants] = await Promise.all([page.waitForEvent('download'), page.click('#download-grants')]);
  assert.equal(grants.suggestedFilename(), 'grants.toml');
  await closePage(page);
});

test('screenshot for the README (RBAC sample, run)', { timeout: 120000 }, async () => {
  const page = await openPage();
  await waitTypes(page, 'logto');
  await page.selectOption('#sample', 'logto-rbac');
  assert.equal(await runAndWait(page), 'claims');
  await page.waitForFunction(() => document.querySelectorAll('#script-editor .cm-lintRange-error').length === 0);
  if (SCREENSHOT !== 'none') {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  }
  await closePage(page);
});

test('the page asked only the server it came from', () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
});
