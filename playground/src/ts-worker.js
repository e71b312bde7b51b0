// Web Worker: the TypeScript language service for the script editor, off the
// page's main thread. Messages in: {id, op, ...}; out: {id, result} or {id, error}.
import ts from 'typescript';
import libs from 'virtual:ts-libs';
import { ScriptService } from './ts-service.js';

const service = new ScriptService(ts, libs);
// Which declarations are loaded (the style's name), reported with each check.
let typesTag = null;

const ops = {
  types: ({ dts, tag }) => {
    service.setTypes(dts);
    typesTag = tag ?? null;
    return true;
  },
  diagnostics: ({ text }) => {
    service.setScript(text);
    return { types: typesTag, diagnostics: service.diagnostics() };
  },
  completions: ({ text, pos }) => {
    service.setScript(text);
    return service.completions(pos);
  },
  details: ({ text, pos, name }) => {
    service.setScript(text);
    return service.completionDetails(pos, name);
  },
  quickInfo: ({ text, pos }) => {
    service.setScript(text);
    return service.quickInfo(pos);
  },
};

self.onmessage = (event) => {
  const { id, op, ...args } = event.data;
  try {
    const fn = ops[op];
    if (!fn) throw new Error(`unknown operation ${op}`);
    self.postMessage({ id, result: fn(args) });
  } catch (error) {
    self.postMessage({ id, error: String(error && error.message ? error.message : error) });
  }
};
self.postMessage({ id: 0, result: 'ready' });
