#!/usr/bin/env node
// Baseline for the service benchmark: a Node.js HTTP server that runs a
// claims script with node:vm per request, the way self-hosted Logto runs it
// (the runner of bench/nodevm.mjs, imported: fresh contexts every run).
//
//   node bench/nodevm-server.mjs SCRIPT PORT
//
// POST /run with the run input ({"token", "context", "environmentVariables"})
// answers 200 {"outcome":"claims","claims":{...}} or {"outcome":"denied",...},
// 500 on a script error. Prints "listening on http://127.0.0.1:PORT" when
// ready. Node 20, no npm dependencies.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { runLogto, runScriptFunctionInLocalVm } from './nodevm.mjs';

const [scriptPath, portArg] = process.argv.slice(2);
const port = Number.parseInt(portArg ?? '', 10);
if (!scriptPath || !(port >= 0)) {
  process.stderr.write('usage: node bench/nodevm-server.mjs SCRIPT PORT\n');
  process.exit(1);
}
const script = readFileSync(scriptPath, 'utf8');

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    // HTTP alone, nothing run: the floor the run requests stand on.
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    response.end('{}');
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', async () => {
    let status = 200;
    let body;
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      body = await runLogto(runScriptFunctionInLocalVm, script, input);
    } catch (error) {
      status = 500;
      body = { error: String(error?.message ?? error) };
    }
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
