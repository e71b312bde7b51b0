// Builds the playground bundle: index.html, app.js and app.css.
//
//   node build.mjs [--outdir DIR]     (default: ../crates/server/playground/dist)
//
// Deterministic: the same sources, examples and lockfile give the same bytes
// (no timestamps, samples in a fixed order), so check-fresh.sh can compare a
// fresh build with the committed one byte for byte.
//
// The TypeScript language service runs in a Web Worker. Its bundle is built
// first and embedded in app.js as a string (started from a Blob URL), so the
// server has exactly three files to serve and nothing is fetched from
// elsewhere: no CDN, no fonts, everything works offline.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { libClosure } from './src/ts-service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

function parseArgs(argv) {
  let outdir = path.join(repo, 'crates/server/playground/dist');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--outdir' && i + 1 < argv.length) outdir = path.resolve(argv[++i]);
    else throw new Error(`usage: node build.mjs [--outdir DIR] (unexpected ${argv[i]})`);
  }
  return { outdir };
}

// ---- samples -----------------------------------------------------------------

/**
 * The samples of the sample menu, taken from the repo's examples/ at build
 * time (a change there makes the committed bundle stale, which
 * check-fresh.sh reports).
 */
const SAMPLES = [
  { id: 'logto-rbac', style: 'logto', title: 'Logto · user token: roles and permissions (RBAC)', dir: 'rbac' },
  { id: 'logto-m2m', style: 'logto', title: 'Logto · machine-to-machine token', dir: 'm2m' },
  { id: 'logto-organizations', style: 'logto', title: 'Logto · user token: organizations', dir: 'organizations' },
  { id: 'logto-abac', style: 'logto', title: 'Logto · user token: attribute-based (beta)', dir: 'abac-beta' },
  { id: 'logto-deny', style: 'logto', title: 'Logto · denial: balance exhausted', dir: 'deny-balance' },
  { id: 'logto-fetch', style: 'logto', title: 'Logto · fetch external data (balance service on 127.0.0.1:8787)', dir: 'fetch-balance' },
  { id: 'auth0-post-login', style: 'auth0', title: 'Auth0 · post-login: roles, ID token, scope', dir: 'auth0-roles' },
  { id: 'auth0-post-login-blocked', style: 'auth0', title: 'Auth0 · post-login: blocked user (denied)', dir: 'auth0-roles', input: 'input-blocked.json' },
  { id: 'auth0-credentials-exchange', style: 'auth0', title: 'Auth0 · credentials exchange (machine-to-machine)', dir: 'auth0-m2m' },
  { id: 'auth0-credentials-exchange-unknown', style: 'auth0', title: 'Auth0 · credentials exchange: unknown client (denied)', dir: 'auth0-m2m', input: 'input-unknown.json' },
  { id: 'loginradius-roles', style: 'loginradius', title: 'LoginRadius · roles from an authorization service (127.0.0.1:8788)', dir: 'loginradius-roles' },
  { id: 'loginradius-no-email', style: 'loginradius', title: 'LoginRadius · user without email (denied)', dir: 'loginradius-roles', input: 'input-no-email.json' },
];

function readText(file) {
  return fs.readFileSync(file, 'utf8');
}

function pretty(value) {
  return value === undefined ? '' : JSON.stringify(value, null, 2) + '\n';
}

function exampleSample(spec) {
  const dir = path.join(repo, 'examples', spec.dir);
  const input = JSON.parse(readText(path.join(dir, spec.input ?? 'input.json')));
  const grantsFile = path.join(dir, 'grants.toml');
  return {
    id: spec.id,
    style: spec.style,
    title: spec.title,
    group: 'examples',
    source: `examples/${spec.dir}`,
    script: readText(path.join(dir, 'script.js')),
    token: pretty(input.token),
    context: pretty(input.context),
    environmentVariables: pretty(input.environmentVariables),
    grants: fs.existsSync(grantsFile) ? readText(grantsFile) : '',
  };
}

// ==== PROVIDER HOOK PAYLOAD SAMPLES (Okta, ZITADEL, Ory Hydra, Supabase) =======
//
// crates/hooks maps each provider's token-hook payload to the Logto-shaped
// input that /v1/run takes. Its test fixtures are picked up here: every
// directory crates/hooks/tests/fixtures/PROVIDER/NAME/ that holds the mapped
// input as `input.json` (`{"token", "context"?, "environmentVariables"?}`)
// becomes a sample (the provider's raw payload beside it, `request.json`, is
// shown in the sample's comment header). Fixtures without a mapped input are
// skipped. Add a script for a provider in HOOK_SCRIPTS, or the Logto RBAC
// script is used.
const HOOK_FIXTURES = path.join(repo, 'crates/hooks/tests/fixtures');
const HOOK_SCRIPTS = {};

function hookSamples(fallbackScript) {
  if (!fs.existsSync(HOOK_FIXTURES)) return [];
  const out = [];
  for (const provider of fs.readdirSync(HOOK_FIXTURES).sort()) {
    const pdir = path.join(HOOK_FIXTURES, provider);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const name of fs.readdirSync(pdir).sort()) {
      const dir = path.join(pdir, name);
      const inputFile = path.join(dir, 'input.json');
      if (!fs.statSync(dir).isDirectory() || !fs.existsSync(inputFile)) continue;
      const input = JSON.parse(readText(inputFile));
      out.push({
        id: `hook-${provider}-${name}`,
        style: 'logto',
        title: `${provider} hook · ${name}`,
        group: 'hooks',
        source: path.relative(repo, dir),
        script: HOOK_SCRIPTS[provider] ?? fallbackScript,
        token: pretty(input.token),
        context: pretty(input.context),
        environmentVariables: pretty(input.environmentVariables),
        grants: '',
      });
    }
  }
  return out;
}
// ==== END OF PROVIDER HOOK PAYLOAD SAMPLES ========================================

function allSamples() {
  const examples = SAMPLES.map(exampleSample);
  return [...examples, ...hookSamples(examples[0].script)];
}

// ---- esbuild -----------------------------------------------------------------

/** Node built-ins TypeScript and @typescript/vfs reach only under Node.js. */
const NODE_ONLY =
  /^(fs|path|os|crypto|inspector|perf_hooks|module|buffer|source-map-support|child_process|url|util|worker_threads)$/;

function virtualModules(modules) {
  return {
    name: 'claimscript-virtual',
    setup(build) {
      build.onResolve({ filter: NODE_ONLY }, (args) => ({ path: args.path, namespace: 'node-only' }));
      build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({
        contents: 'module.exports = {};',
        loader: 'js',
      }));
      build.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path, namespace: 'virtual' }));
      build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => {
        const make = modules[args.path];
        if (!make) return { errors: [{ text: `unknown virtual module ${args.path}` }] };
        return { contents: `export default ${JSON.stringify(make())};`, loader: 'js' };
      });
    },
  };
}

const common = {
  bundle: true,
  minify: true,
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  charset: 'utf8',
  legalComments: 'eof',
  logLevel: 'warning',
  write: false,
  absWorkingDir: here,
};

async function build({ outdir }) {
  const tsLib = path.join(here, 'node_modules/typescript/lib');
  const worker = await esbuild.build({
    ...common,
    entryPoints: ['src/ts-worker.js'],
    format: 'iife',
    plugins: [virtualModules({ 'virtual:ts-libs': () => libClosure((f) => readText(path.join(tsLib, f))) })],
  });
  const workerSource = worker.outputFiles[0].text;

  const app = await esbuild.build({
    ...common,
    entryPoints: { app: 'src/main.js' },
    outdir: 'out',
    format: 'iife',
    plugins: [
      virtualModules({
        'virtual:samples': allSamples,
        'virtual:ts-worker-source': () => workerSource,
      }),
    ],
  });

  fs.mkdirSync(outdir, { recursive: true });
  const written = [];
  for (const file of app.outputFiles) {
    const name = path.basename(file.path);
    fs.writeFileSync(path.join(outdir, name), file.contents);
    written.push([name, file.contents.length]);
  }
  const html = readText(path.join(here, 'src/index.html'));
  fs.writeFileSync(path.join(outdir, 'index.html'), html);
  written.push(['index.html', Buffer.byteLength(html)]);
  for (const [name, bytes] of written.sort()) {
    console.log(`${path.relative(process.cwd(), path.join(outdir, name))}  ${bytes} bytes`);
  }
  console.log(`(of app.js, ${workerSource.length} bytes are the TypeScript worker)`);
}

await build(parseArgs(process.argv.slice(2)));
