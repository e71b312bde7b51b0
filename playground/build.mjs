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
// The claims service maps each provider's token-hook request to the
// Logto-shaped input /v1/run takes (crates/hooks). samples/hooks.json holds
// the request fixtures of crates/hooks/tests/fixtures mapped by that crate's
// own code (regenerate it with tools/hook-samples.sh when the fixtures or the
// mapping change); each becomes a sample running samples/hook-script.js.
const HOOK_INPUTS = path.join(here, 'samples/hooks.json');
const HOOK_SCRIPT = path.join(here, 'samples/hook-script.js');
const PROVIDERS = { okta: 'Okta', zitadel: 'ZITADEL', hydra: 'Ory Hydra', supabase: 'Supabase' };
const HOOK_TITLES = {
  'okta-token-transform.json': 'token inline hook (user sign-in)',
  'okta-client-credentials.json': 'token inline hook (client credentials)',
  'zitadel-preaccesstoken.json': 'Actions v2 preaccesstoken',
  'zitadel-preuserinfo.json': 'Actions v2 preuserinfo',
  'hydra-token-hook.json': 'token hook (authorization code)',
  'hydra-client-credentials.json': 'token hook (client credentials)',
  'supabase-custom-access-token.json': 'custom access token hook',
};

function hookSamples() {
  if (!fs.existsSync(HOOK_INPUTS)) return [];
  const inputs = JSON.parse(readText(HOOK_INPUTS));
  const script = readText(HOOK_SCRIPT);
  return Object.keys(inputs)
    .sort()
    .map((file) => {
      const input = inputs[file];
      const provider = file.split('-')[0];
      const name = file.replace(/\.json$/, '');
      return {
        id: `hook-${name}`,
        style: 'logto',
        title: `${PROVIDERS[provider] ?? provider} · ${HOOK_TITLES[file] ?? name.slice(provider.length + 1).replace(/-/g, ' ')}`,
        group: 'hooks',
        source: `crates/hooks/tests/fixtures/${file} (mapped by claimscript-hooks)`,
        script,
        token: pretty(input.token),
        context: pretty(input.context),
        environmentVariables: pretty(input.environmentVariables),
        grants: '',
      };
    });
}
// ==== END OF PROVIDER HOOK PAYLOAD SAMPLES ========================================

function allSamples() {
  const examples = SAMPLES.map(exampleSample);
  return [...examples, ...hookSamples()];
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
