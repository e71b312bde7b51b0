#!/usr/bin/env node
// Baseline: run a custom-JWT-claims script the way self-hosted Logto runs it,
// with node:vm, and time each run.
//
//   node bench/nodevm.mjs SCRIPT INPUT.json RUNS [WARMUP]
//
// Prints ONE JSON object: {"n","p50_us","p90_us","p99_us","runs_per_sec","node","mode"}.
// Node 20, no npm dependencies.
//
// What is reproduced, and from where (logto-io/logto, Logto OSS):
//
// * packages/core/src/utils/local-vm/index.ts, `runScriptFunctionInLocalVm`
//   (lines 12-41 at commit cbb638a715cdd9ec547f579b413deca1fac7f5ac; the same
//   function body is lines 35-64 of the later revision that also defines
//   `LocalVmError`, before PR #9080): a frozen global context holding only
//   `fetch`; `runInNewContext(script + ';getCustomJwtClaims;', globalContext)`
//   (no timeout on this first call); the typeof check; then
//   `await runInNewContext('(async () => customFunction(payload))();',
//   Object.freeze({ customFunction, payload }), { timeout: 3000 })`.
//   Both contexts are created anew on every run, as in Logto.
// * The same file, lines 11-24 of that later revision: `LocalVmError extends
//   ResponseError` (@withtyped/client: `class ResponseError extends Error {
//   constructor(response) { super(`Response error ${status}: ${statusText}`) } }`),
//   built from `new Response(new Blob([JSON.stringify(body)], { type:
//   'application/json' }), { status })`.
// * packages/core/src/libraries/jwt-customizer.ts (revision with the
//   `JwtCustomizerLibrary` class), lines 35-50: the frozen `apiContext` whose
//   `denyAccess(message = 'Access denied')` throws `new LocalVmError({ message,
//   error: { code: 'AccessDenied', message } }, 403)`; lines 54-66:
//   `runScriptInLocalVm` builds the payload (`token`, `context`,
//   `environmentVariables` for access tokens; no `context` for client
//   credentials) plus `api`, calls the runner and parses the result with
//   `z.record(z.unknown())`.
//
// Not reproduced exactly: zod is not available without npm, so the
// `z.record(z.unknown()).parse(result)` step is replaced by the equivalent
// checks and copy (`recordParse` below). Logto's token type comes from the
// token endpoint; here it is `token.kind` of INPUT.json ("ClientCredentials"
// drops `context`, as Logto's `pick(data, 'token', 'environmentVariables')`).
//
// Which revision the v1.42 release ships could not be confirmed from the
// sources at hand: the default is the runner above (the ~50-line file the
// brief describes: timeout only on the call, no wall-clock race). `code:
// 'AccessDenied'` stands for `CustomJwtErrorCode.AccessDenied` (the inline-hook
// copy of `denyAccess` spells it that way).
//
// Set LOGTO_LOCAL_VM=pr9080 to run the later runner of PR #9080 instead (an
// AbortController-wrapped `fetch`, `{ timeout: 3000 }` on the first
// `runInNewContext` too, and a `Promise.race` against a 3 s `setTimeout`).
//
// Each run is timed with process.hrtime.bigint() from building the payload to
// the settled result; a denial (LocalVmError with status 403) is a completed
// run. Any other error stops the benchmark (exit status 1). Percentiles are
// nearest-rank, index round((n - 1) * q), as in `claimscript bench`.

import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { pathToFileURL } from 'node:url';

const functionName = 'getCustomJwtClaims';
const localVmTimeout = 3000;

// @withtyped/client ResponseError, and Logto's LocalVmError on top of it.
class ResponseError extends Error {
  constructor(response) {
    super(`Response error ${response.status}: ${response.statusText}`);
    this.response = response;
  }

  get status() {
    return this.response.status;
  }
}

class LocalVmError extends ResponseError {
  constructor(errorBody, statusCode) {
    super(
      new Response(new Blob([JSON.stringify(errorBody)], { type: 'application/json' }), {
        status: statusCode,
      })
    );
  }
}

const apiContext = Object.freeze({
  denyAccess: (message = 'Access denied') => {
    const error = { code: 'AccessDenied', message };
    throw new LocalVmError({ message, error }, 403);
  },
});

// Logto before PR #9080.
export const runScriptFunctionInLocalVm = async (script, functionName, payload) => {
  const globalContext = Object.freeze({
    fetch: async (...args) => fetch(...args),
  });
  const customFunction = runInNewContext(script + `;${functionName};`, globalContext);

  if (typeof customFunction !== 'function') {
    throw new TypeError(`The script does not have a function named \`${functionName}\``);
  }

  const result = await runInNewContext(
    '(async () => customFunction(payload))();',
    Object.freeze({ customFunction, payload }),
    { timeout: localVmTimeout }
  );

  return result;
};

// Logto after PR #9080 (opt-in, LOGTO_LOCAL_VM=pr9080).
const runScriptFunctionInLocalVmPr9080 = async (script, functionName, payload) => {
  const abortController = new AbortController();

  const execute = async () => {
    const globalContext = Object.freeze({
      fetch: async (input, init) => fetch(input, { ...init, signal: abortController.signal }),
    });
    const customFunction = runInNewContext(script + `;${functionName};`, globalContext, {
      timeout: localVmTimeout,
    });

    if (typeof customFunction !== 'function') {
      throw new TypeError(`The script does not have a function named \`${functionName}\``);
    }

    return runInNewContext(
      '(async () => customFunction(payload))();',
      Object.freeze({ customFunction, payload }),
      { timeout: localVmTimeout }
    );
  };

  let timeoutId;
  const timeoutPromise = new Promise((_, reject) => {
    timeoutId = setTimeout(() => {
      abortController.abort();
      reject(new Error(`Script execution timed out after ${localVmTimeout}ms`));
    }, localVmTimeout);
  });

  try {
    return await Promise.race([execute(), timeoutPromise]);
  } finally {
    if (timeoutId) {
      clearTimeout(timeoutId);
    }
  }
};

// Stand-in for zod's `z.record(z.unknown()).parse(result)`: a non-null,
// non-array object, copied key by key into a new object.
const recordParse = (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected object, received ${value === null ? 'null' : typeof value}`);
  }
  const parsed = {};
  for (const key of Object.keys(value)) {
    parsed[key] = value[key];
  }
  return parsed;
};

// One run, as JwtCustomizerLibrary.runScriptInLocalVm does it. Returns
// { outcome: 'claims', claims } or { outcome: 'denied', message }; throws on
// anything else.
export const runLogto = async (runner, script, input) => {
  const payload = {
    ...(input.token?.kind === 'ClientCredentials'
      ? { token: input.token, environmentVariables: input.environmentVariables }
      : {
          token: input.token,
          context: input.context,
          environmentVariables: input.environmentVariables,
        }),
    api: apiContext,
  };
  try {
    return { outcome: 'claims', claims: recordParse(await runner(script, functionName, payload)) };
  } catch (error) {
    if (error instanceof LocalVmError && error.status === 403) {
      return { outcome: 'denied', message: error.message };
    }
    throw error;
  }
};

const runOnce = async (runner, script, input) => (await runLogto(runner, script, input)).outcome;

const fail = (message) => {
  process.stderr.write(`nodevm.mjs: ${message}\n`);
  process.exit(1);
};

const main = async () => {
  const [scriptPath, inputPath, runsArg, warmupArg] = process.argv.slice(2);
  const runs = Number.parseInt(runsArg, 10);
  if (!scriptPath || !inputPath || !(runs > 0)) {
    fail('usage: node bench/nodevm.mjs SCRIPT INPUT.json RUNS [WARMUP]');
  }
  const warmup =
    warmupArg === undefined ? Math.max(50, Math.floor(runs / 10)) : Number.parseInt(warmupArg, 10);
  if (!(warmup >= 0)) {
    fail(`WARMUP must be a non-negative integer, not ${warmupArg}`);
  }

  const script = readFileSync(scriptPath, 'utf8');
  let input;
  try {
    input = JSON.parse(readFileSync(inputPath, 'utf8'));
  } catch (error) {
    fail(`${inputPath}: ${error.message}`);
  }

  const variant = process.env.LOGTO_LOCAL_VM ?? '';
  if (variant !== '' && variant !== 'pr9080') {
    fail(`LOGTO_LOCAL_VM must be unset or "pr9080", not "${variant}"`);
  }
  const runner = variant === 'pr9080' ? runScriptFunctionInLocalVmPr9080 : runScriptFunctionInLocalVm;
  const mode =
    variant === 'pr9080'
      ? 'node:vm runInNewContext per run (Logto local-vm after PR #9080)'
      : 'node:vm runInNewContext per run (Logto v1.42 local-vm)';

  const run = async () => {
    try {
      return await runOnce(runner, script, input);
    } catch (error) {
      const cause = error?.cause ? `\ncaused by: ${error.cause}` : '';
      fail(`${scriptPath}: the run failed: ${error?.stack ?? error}${cause}`);
    }
  };

  for (let i = 0; i < warmup; i += 1) {
    await run();
  }

  const times = new Float64Array(runs);
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i += 1) {
    const t0 = process.hrtime.bigint();
    await run();
    times[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  times.sort();
  const percentile = (q) => times[Math.round((times.length - 1) * q)];
  process.stdout.write(
    `${JSON.stringify({
      n: runs,
      p50_us: percentile(0.5),
      p90_us: percentile(0.9),
      p99_us: percentile(0.99),
      runs_per_sec: runs / wallSeconds,
      node: process.version,
      mode,
    })}\n`
  );
};

// Run as a program, not when imported (bench/nodevm-server.mjs imports it).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
