// Renders a /v1/run report: outcome, meters, claims, dropped claims, denial,
// error, console records, fetch trail, signed token and the grants' audit.
// Everything from the server is inserted as text (textContent), never as HTML.

/** Claims the host removes, and why (README "ID tokens and scopes"). */
const PROTECTED_ACCESS = 'iss sub aud exp nbf iat jti azp client_id scope sid cnf act auth_time gty nonce at_hash c_hash acr amr kid typ'.split(' ');
const PROTECTED_ID = [...PROTECTED_ACCESS, 's_hash'];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function section(id, title, ...body) {
  const headingId = `${id}-title`;
  return el('section', { class: 'result-section', id, 'aria-labelledby': headingId }, el('h3', { id: headingId, text: title }), ...body);
}

function jsonBlock(value, attrs = {}) {
  return el('pre', { class: 'json', tabindex: 0, ...attrs, text: JSON.stringify(value, null, 2) });
}

const number = new Intl.NumberFormat('en-US');

export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`;
  return `${number.format(bytes)} B`;
}

function formatDuration(us) {
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 100000 ? 0 : 1)} ms`;
  return `${number.format(us)} µs`;
}

// ---- meters -------------------------------------------------------------------------

/**
 * The four meters: fuel against `limits.fuel`, memory against `memory_mb`,
 * output bytes against `max_output_bytes`, time against `timeout_ms`. The
 * meter of the limit a run hit is full (the error kind says which).
 */
export function renderMeters(container, report) {
  const stats = report?.stats ?? {};
  const limits = report?.limits ?? {};
  const kind = report?.outcome === 'error' ? report.error?.kind : null;
  const rows = [
    {
      id: 'fuel',
      label: 'Fuel',
      value: stats.fuel,
      max: limits.fuel,
      hit: kind === 'fuel_exhausted',
      show: (v) => number.format(v),
      hitText: 'exhausted',
    },
    {
      id: 'memory',
      label: 'Memory',
      value: stats.memory_bytes,
      max: limits.memory_mb === undefined ? undefined : limits.memory_mb * 1024 * 1024,
      hit: kind === 'memory',
      show: formatBytes,
      hitText: 'limit reached',
    },
    {
      id: 'output',
      label: 'Output',
      value: report?.output_bytes,
      max: limits.max_output_bytes,
      hit: kind === 'output_too_large',
      show: formatBytes,
      hitText: 'too large',
    },
    {
      id: 'time',
      label: 'Time',
      value: stats.duration_us,
      max: limits.timeout_ms === undefined ? undefined : limits.timeout_ms * 1000,
      hit: kind === 'timeout',
      show: formatDuration,
      hitText: 'timed out',
    },
  ];
  container.replaceChildren(
    ...rows.map((row) => {
      const known = typeof row.value === 'number' && typeof row.max === 'number' && row.max > 0;
      const value = known ? (row.hit ? Math.max(row.value, row.max) : Math.min(row.value, row.max)) : 0;
      const ratio = known ? value / row.max : 0;
      const text = known
        ? `${row.show(row.hit ? Math.max(row.value, row.max) : row.value)} of ${row.show(row.max)} (${(ratio * 100).toFixed(ratio < 0.01 && ratio > 0 ? 2 : 1)}%)${row.hit ? ` · ${row.hitText}` : ''}`
        : typeof row.value === 'number'
          ? `${row.show(row.value)} (no limit reported)`
          : '–';
      const meterId = `meter-${row.id}`;
      return el(
        'div',
        { class: `meter-row${row.hit ? ' hit' : ''}`, 'data-meter': row.id },
        el('label', { for: meterId, text: row.label }),
        el('meter', {
          id: meterId,
          min: 0,
          max: known ? row.max : 1,
          value,
          low: known ? row.max * 0.5 : undefined,
          high: known ? row.max * 0.85 : undefined,
          optimum: 0,
          'aria-valuetext': text,
        }),
        el('span', { class: 'meter-text', id: `${meterId}-text`, text }),
      );
    }),
  );
}

// ---- the outcome --------------------------------------------------------------------------

/** A one-line summary for the live region. */
export function summary(report) {
  switch (report.outcome) {
    case 'claims': {
      const n = Object.keys(report.claims ?? {}).length;
      const dropped = (report.dropped?.length ?? 0) + (report.id_token_dropped?.length ?? 0);
      return `Claims: ${n} claim${n === 1 ? '' : 's'}${dropped ? `, ${dropped} dropped` : ''}.`;
    }
    case 'denied':
      return `Denied: ${report.message ?? ''}`;
    case 'error': {
      const e = report.error ?? {};
      const where = e.line ? ` (line ${e.line}${e.column ? `, column ${e.column}` : ''})` : '';
      return `Error ${e.kind ?? ''}${where}: ${e.message ?? ''}`;
    }
    default:
      return `Outcome ${report.outcome}`;
  }
}

function droppedList(names, protectedList, target) {
  if (!names || names.length === 0) return null;
  return el(
    'ul',
    { class: 'dropped', 'data-target': target },
    names.map((name) =>
      el(
        'li',
        {},
        el('code', { text: name }),
        ' — ',
        protectedList.includes(name)
          ? `a protected claim of the ${target} token: the identity server sets it, a script cannot`
          : 'removed by the host',
      ),
    ),
  );
}

function logsSection(logs) {
  if (!logs || logs.length === 0) return section('logs', 'Console', el('p', { class: 'muted', text: 'No console records.' }));
  return section(
    'logs',
    `Console (${logs.length})`,
    el(
      'ol',
      { class: 'logs' },
      logs.map((r) =>
        el('li', { class: `log log-${r.level}`, 'data-level': r.level }, el('span', { class: 'level', text: r.level }), el('span', { class: 'message', text: r.message })),
      ),
    ),
  );
}

/** A refusal is `{kind, detail}` (or, from older hosts, a plain string). */
function refusedText(refused) {
  if (!refused) return '';
  if (typeof refused === 'string') return refused;
  return refused.detail ?? refused.kind ?? JSON.stringify(refused);
}

function refusedKind(refused) {
  return refused && typeof refused === 'object' ? refused.kind : undefined;
}

function fetchSection(fetches) {
  if (!fetches || fetches.length === 0) return section('fetches', 'Fetch trail', el('p', { class: 'muted', text: 'No requests.' }));
  return section(
    'fetches',
    `Fetch trail (${fetches.length})`,
    el(
      'table',
      { class: 'fetches' },
      el('thead', {}, el('tr', {}, ['Method', 'URL', 'Status', 'Bytes', 'Time'].map((h) => el('th', { scope: 'col', text: h })))),
      el(
        'tbody',
        {},
        fetches.map((f) =>
          el(
            'tr',
            { class: f.refused ? 'refused' : '' },
            el('td', { text: f.method }),
            el('td', { class: 'url', text: f.url }),
            el('td', { 'data-refused': refusedKind(f.refused), text: f.refused ? `refused: ${refusedText(f.refused)}` : (f.status ?? '–') }),
            el('td', { text: formatBytes(f.bytes ?? 0) }),
            el('td', { text: `${f.ms ?? 0} ms` }),
          ),
        ),
      ),
    ),
  );
}

function tokenSection(token) {
  if (!token || !token.jwt) return null;
  const [h, p, s] = token.jwt.split('.');
  return section(
    'token',
    'Signed token (development key)',
    el(
      'p',
      { class: 'jwt', tabindex: 0, 'aria-label': 'Signed JWT' },
      el('span', { class: 'jwt-header', text: h }),
      '.',
      el('span', { class: 'jwt-payload', text: p }),
      '.',
      el('span', { class: 'jwt-signature', text: s }),
    ),
    el('div', { class: 'token-parts' },
      el('div', {}, el('h4', { text: 'Header' }), jsonBlock(token.header ?? decodePart(h), { id: 'token-header' })),
      el('div', {}, el('h4', { text: 'Payload' }), jsonBlock(token.payload ?? decodePart(p), { id: 'token-payload' })),
    ),
    el('p', { class: 'muted', text: 'Signed with the playground\'s development ES256 key, generated when it started: for looking at, not for use.' }),
  );
}

function decodePart(part) {
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

/**
 * The result pane's body for a run report. `onGoTo(line, column)` is called
 * by the error's "go to line" button.
 */
export function renderReport(container, report, { onGoTo }) {
  const parts = [];
  if (report.outcome === 'claims') {
    parts.push(section('claims', 'Claims (access token)', jsonBlock(report.claims ?? {}, { id: 'claims-json' })));
    if (report.id_token_claims) {
      parts.push(section('id-claims', 'ID token claims', jsonBlock(report.id_token_claims, { id: 'id-claims-json' })));
    }
    if (report.scopes && ((report.scopes.added ?? []).length || (report.scopes.removed ?? []).length)) {
      parts.push(
        section(
          'scopes',
          'Scope changes',
          el('p', {}, 'Added: ', el('code', { text: (report.scopes.added ?? []).join(' ') || '–' })),
          el('p', {}, 'Removed: ', el('code', { text: (report.scopes.removed ?? []).join(' ') || '–' })),
        ),
      );
    }
    const dropped = droppedList(report.dropped, PROTECTED_ACCESS, 'access');
    const idDropped = droppedList(report.id_token_dropped, PROTECTED_ID, 'ID');
    if (dropped || idDropped) {
      parts.push(
        section(
          'dropped',
          'Dropped claims',
          el('p', { text: 'The script set these claims; the host removed them and says so, never silently.' }),
          dropped,
          idDropped,
        ),
      );
    }
  } else if (report.outcome === 'denied') {
    parts.push(
      section(
        'denial',
        'Denied',
        el('p', { class: 'denial-message', id: 'denial-message', text: report.message ?? '' }),
        report.code || report.title
          ? el('p', { class: 'muted' }, report.code ? `code ${report.code}` : '', report.code && report.title ? ' · ' : '', report.title ? `title ${report.title}` : '')
          : null,
        el('p', { class: 'muted', text: 'The identity server refuses to issue the token with this message.' }),
      ),
    );
  } else if (report.outcome === 'error') {
    const e = report.error ?? {};
    parts.push(
      section(
        'error',
        'Error',
        el('p', {}, el('strong', { class: 'error-kind', id: 'error-kind', text: e.kind ?? 'error' }), ' ', el('span', { id: 'error-message', text: e.message ?? '' })),
        e.line
          ? el(
              'p',
              {},
              `At line ${e.line}${e.column ? `, column ${e.column}` : ''}. `,
              el('button', { type: 'button', class: 'link', onclick: () => onGoTo(e.line, e.column), text: 'Go to the line in the editor' }),
            )
          : null,
        e.stack ? el('pre', { class: 'stack', text: e.stack }) : null,
      ),
    );
  }
  parts.push(logsSection(report.logs));
  parts.push(fetchSection(report.stats?.fetches));
  const token = tokenSection(report.token);
  if (token) parts.push(token);
  if (report.decision_id) parts.push(el('p', { class: 'muted decision', text: `Decision ${report.decision_id}` }));
  container.replaceChildren(...parts);
}

/** A 4xx answer of the server ({error:{code,message,line?,column?}}) or a network failure. */
export function renderFailure(container, title, message, detail) {
  container.replaceChildren(
    section('failure', title, el('p', { class: 'failure-message', id: 'failure-message', text: message }), detail ? el('p', { class: 'muted', text: detail }) : null),
  );
}

// ---- the grants' audit -------------------------------------------------------------------

function limitRow(name, entry, unit) {
  if (!entry) return null;
  const value = typeof entry === 'object' ? entry.value : entry;
  const isDefault = typeof entry === 'object' ? entry.default : false;
  return el('tr', {}, el('th', { scope: 'row', text: name }), el('td', { text: `${number.format(value)}${unit ? ` ${unit}` : ''}` }), el('td', { class: 'muted', text: isDefault ? 'default' : 'set' }));
}

/** The audit report (`claimscript audit --json`): what the script could reach, and the warnings. */
export function renderAudit(container, audit) {
  if (!audit) {
    container.replaceChildren(el('p', { class: 'muted', text: 'Run the script to see what it could reach with these grants.' }));
    return;
  }
  const g = audit.grants ?? {};
  const warnings = audit.warnings ?? [];
  const reach = [];
  for (const imp of audit.imports ?? []) {
    for (const fn of imp.functions ?? []) reach.push(fn.capability);
  }
  const fetch = g.fetch;
  container.replaceChildren(
    el(
      'div',
      { class: 'audit-warnings' },
      warnings.length === 0
        ? el('p', { class: 'ok', text: 'No warnings.' })
        : el('ul', { class: 'warnings', id: 'audit-warnings' }, warnings.map((w) => el('li', {}, el('code', { text: w.code }), ' ', w.message))),
    ),
    el('h4', { text: 'Network' }),
    fetch
      ? el(
          'ul',
          { class: 'allow' },
          (fetch.allow ?? []).map((a) => el('li', {}, el('code', { text: a.pattern }), ' — ', a.matches)),
          el('li', { class: 'muted', text: `per request ${fetch.timeout_ms?.value ?? '?'} ms, at most ${formatBytes(fetch.max_response_bytes?.value ?? 0)}; ${fetch.max_requests == null ? 'no request limit' : `at most ${fetch.max_requests} requests`}` }),
        )
      : el('p', { text: 'No egress: every fetch is refused.' }),
    el('h4', { text: 'Environment variables' }),
    el('p', { text: g.env_expose == null ? 'Every variable the input provides.' : g.env_expose.length === 0 ? 'None.' : g.env_expose.join(', ') }),
    el('h4', { text: 'Limits' }),
    el(
      'table',
      { class: 'limits' },
      el('tbody', {}, limitRow('fuel', g.fuel), limitRow('timeout', g.timeout_ms, 'ms'), limitRow('memory', g.memory_mb, 'MiB'), limitRow('output', g.max_output_bytes, 'bytes')),
    ),
    el('h4', { text: 'What the script can ask the host for' }),
    el('ul', { class: 'capabilities' }, reach.map((c) => el('li', { text: c }))),
    audit.artifact
      ? el(
          'p',
          { class: 'muted artifact' },
          `Artifact ${formatBytes(audit.artifact.bytes ?? 0)}, sha256 `,
          el('code', { text: (audit.artifact.sha256 ?? '').slice(0, 16) + '…' }),
          `; style ${audit.artifact.style ?? '?'}, entry ${(audit.artifact.entries ?? []).join(', ') || '–'}${(audit.artifact.packages ?? []).length ? `, packages ${audit.artifact.packages.join(', ')}` : ''}.`,
        )
      : null,
  );
}
