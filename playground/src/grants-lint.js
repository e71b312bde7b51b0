// Grants (TOML) checked as you type: the TOML syntax by smol-toml, then the
// keys and value types the engine accepts (crates/grants), each error at its
// line. The server stays the authority: its 422 invalid_grants is shown too.
import { parse, TomlError } from 'smol-toml';

const INT = 'a non-negative integer';
const SCHEMA = {
  fuel: INT,
  timeout_ms: INT,
  memory_mb: INT,
  max_output_bytes: INT,
  env: { expose: 'an array of strings' },
  fetch: {
    allow: 'an array of strings',
    timeout_ms: INT,
    max_response_bytes: INT,
    max_requests: INT,
  },
};

function isInt(v) {
  return (typeof v === 'bigint' && v >= 0n) || (Number.isInteger(v) && v >= 0);
}

function matches(value, want) {
  if (want === INT) return isInt(value);
  if (want === 'an array of strings') return Array.isArray(value) && value.every((x) => typeof x === 'string');
  return false;
}

/** The 1-based line where `key` is set (in `[table]`, '' for the top level), or 0. */
function lineOf(text, key, table) {
  const lines = text.split('\n');
  let current = '';
  const keyRe = new RegExp(`^\\s*("?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1\\s*=`);
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(lines[i]);
    if (header) {
      current = header[1];
      if (current === key && (table === undefined || table === '')) return i + 1;
      continue;
    }
    if ((table ?? '') === current && keyRe.test(lines[i])) return i + 1;
  }
  return 0;
}

/**
 * Problems in a grants file: [{line, column, message}] (1-based; column
 * may be absent). An empty list when it is valid.
 */
export function checkGrants(text) {
  let doc;
  try {
    doc = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const first = String(error.message).replace(/^Invalid TOML document: /, '').split('\n')[0];
      return [{ line: error.line, column: error.column, message: `TOML: ${first}` }];
    }
    return [{ line: 1, message: String(error) }];
  }
  const problems = [];
  for (const [key, value] of Object.entries(doc)) {
    const want = SCHEMA[key];
    if (want === undefined) {
      problems.push({
        line: lineOf(text, key, '') || 1,
        message: `unknown key \`${key}\` (expected one of ${Object.keys(SCHEMA).join(', ')})`,
      });
    } else if (typeof want === 'object') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push({ line: lineOf(text, key, '') || 1, message: `\`${key}\` must be a table ([${key}])` });
        continue;
      }
      for (const [sub, subValue] of Object.entries(value)) {
        const subWant = want[sub];
        const line = lineOf(text, sub, key) || lineOf(text, key, '') || 1;
        if (subWant === undefined) {
          problems.push({ line, message: `unknown key \`${sub}\` in [${key}] (expected one of ${Object.keys(want).join(', ')})` });
        } else if (!matches(subValue, subWant)) {
          problems.push({ line, message: `\`${key}.${sub}\` must be ${subWant}` });
        }
      }
    } else if (!matches(value, want)) {
      problems.push({ line: lineOf(text, key, '') || 1, message: `\`${key}\` must be ${want}` });
    }
  }
  return problems;
}
