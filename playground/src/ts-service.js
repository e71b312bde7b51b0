// The TypeScript language service behind the script editor: completions,
// quick info and diagnostics for one script checked (checkJs, strict) against
// the declarations of its style (GET /v1/types/{style}). Runs in a Web Worker
// in the page (ts-worker.js); plain enough to run in Node.js too.
import { createSystem, createVirtualTypeScriptEnvironment } from '@typescript/vfs';

export const SCRIPT_FILE = '/script.js';
export const TYPES_FILE = '/claimscript.d.ts';

/** The options of tests/types/check.sh, so the editor agrees with the repo's type tests. */
export function compilerOptions(ts) {
  return {
    noEmit: true,
    allowJs: true,
    checkJs: true,
    strict: true,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    types: [],
    moduleDetection: ts.ModuleDetectionKind.Force,
    noErrorTruncation: true,
  };
}

/**
 * A language service over an in-memory file system holding TypeScript's
 * standard library files (`libs`: name -> text, e.g. "lib.es2023.d.ts"),
 * the style's declarations and the script.
 */
export class ScriptService {
  constructor(ts, libs) {
    this.ts = ts;
    this.libs = libs;
    this.env = null;
    this.script = '';
    this.types = '';
  }

  /** (Re)creates the environment for a style's declarations. */
  setTypes(dts) {
    this.types = dts;
    const files = new Map();
    for (const [name, text] of Object.entries(this.libs)) files.set('/' + name, text);
    files.set(TYPES_FILE, dts);
    files.set(SCRIPT_FILE, this.script.length === 0 ? ' ' : this.script);
    const system = createSystem(files);
    this.env = createVirtualTypeScriptEnvironment(
      system,
      [TYPES_FILE, SCRIPT_FILE],
      this.ts,
      compilerOptions(this.ts),
    );
  }

  setScript(text) {
    if (text === this.script) return;
    this.script = text;
    if (!this.env) return;
    // An empty file cannot be updated in place by @typescript/vfs.
    this.env.updateFile(SCRIPT_FILE, text.length === 0 ? ' ' : text);
  }

  /** Errors and warnings of the script: [{from, to, severity, message, code}]. */
  diagnostics() {
    if (!this.env) return [];
    const ls = this.env.languageService;
    const all = [
      ...ls.getSyntacticDiagnostics(SCRIPT_FILE),
      ...ls.getSemanticDiagnostics(SCRIPT_FILE),
    ];
    const length = this.script.length;
    return all.map((d) => {
      const from = Math.min(d.start ?? 0, length);
      const to = Math.min(from + Math.max(d.length ?? 0, 0), length);
      return {
        from,
        to,
        severity: d.category === this.ts.DiagnosticCategory.Error ? 'error' : 'warning',
        message: this.ts.flattenDiagnosticMessageText(d.messageText, '\n'),
        code: d.code,
      };
    });
  }

  /** Completions at a position: {isMember, entries: [{name, kind, sortText}]}. */
  completions(pos) {
    if (!this.env) return { isMember: false, entries: [] };
    const info = this.env.languageService.getCompletionsAtPosition(SCRIPT_FILE, pos, {
      includeCompletionsWithInsertText: true,
      includeCompletionsForModuleExports: false,
    });
    if (!info) return { isMember: false, entries: [] };
    return {
      isMember: info.isMemberCompletion,
      entries: info.entries.map((e) => ({
        name: e.name,
        kind: e.kind,
        sortText: e.sortText,
        insertText: e.insertText,
        optional: (e.kindModifiers ?? '').includes('optional'),
      })),
    };
  }

  /** Signature and documentation of one completion entry. */
  completionDetails(pos, name) {
    if (!this.env) return null;
    const d = this.env.languageService.getCompletionEntryDetails(
      SCRIPT_FILE, pos, name, undefined, undefined, undefined, undefined,
    );
    if (!d) return null;
    return {
      signature: this.ts.displayPartsToString(d.displayParts),
      documentation: this.ts.displayPartsToString(d.documentation),
    };
  }

  /** Hover text at a position, or null. */
  quickInfo(pos) {
    if (!this.env) return null;
    const q = this.env.languageService.getQuickInfoAtPosition(SCRIPT_FILE, pos);
    if (!q) return null;
    return {
      from: q.textSpan.start,
      to: q.textSpan.start + q.textSpan.length,
      signature: this.ts.displayPartsToString(q.displayParts),
      documentation: this.ts.displayPartsToString(q.documentation),
    };
  }
}

/** The standard library files `lib.es2023.d.ts` needs, following `/// <reference lib>`. */
export function libClosure(readLib, root = 'es2023') {
  const out = {};
  const visit = (name) => {
    const file = `lib.${name}.d.ts`;
    if (file in out) return;
    const text = readLib(file);
    out[file] = text;
    for (const m of text.matchAll(/\/\/\/\s*<reference\s+lib="([^"]+)"\s*\/>/g)) visit(m[1]);
  };
  visit(root);
  return out;
}
