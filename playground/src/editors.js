// CodeMirror 6 editors: the script (JavaScript checked by TypeScript against
// the style's declarations) and the inputs (JSON, TOML), each linted as you
// type with its errors at their lines.
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
  hoverTooltip,
  Decoration,
  WidgetType,
  placeholder,
} from '@codemirror/view';
import { EditorState, StateField, StateEffect } from '@codemirror/state';
import {
  defaultKeymap,
  history,
  historyKeymap,
  indentWithTab,
  temporarilySetTabFocusMode,
} from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { linter, lintGutter, lintKeymap, forceLinting } from '@codemirror/lint';
import {
  autocompletion,
  completionKeymap,
  closeBrackets,
  closeBracketsKeymap,
} from '@codemirror/autocomplete';
import {
  syntaxHighlighting,
  HighlightStyle,
  bracketMatching,
  indentOnInput,
  StreamLanguage,
} from '@codemirror/language';
import { searchKeymap, highlightSelectionMatches } from '@codemirror/search';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import { tags as t } from '@lezer/highlight';
import { checkGrants } from './grants-lint.js';

// ---- look ----------------------------------------------------------------------

/** Token colours from CSS variables, so light and dark follow prefers-color-scheme. */
const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword], color: 'var(--tok-keyword)' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--tok-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--tok-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: 'var(--tok-comment)', fontStyle: 'italic' },
  { tag: [t.propertyName, t.definition(t.propertyName)], color: 'var(--tok-property)' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--tok-function)' },
  { tag: [t.definition(t.variableName)], color: 'var(--tok-definition)' },
  { tag: [t.typeName, t.className, t.namespace], color: 'var(--tok-type)' },
  { tag: [t.heading, t.meta], color: 'var(--tok-keyword)', fontWeight: 'bold' },
  { tag: t.invalid, color: 'var(--tok-invalid)' },
]);

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--editor-bg)', fontSize: '13px' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '-2px' },
  '.cm-content': { caretColor: 'var(--fg)', fontFamily: 'var(--mono)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection':
    { backgroundColor: 'var(--selection) !important' },
  '.cm-gutters': { backgroundColor: 'var(--gutter-bg)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--active-line)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel-bg)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--accent-fg)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
});

function base({ label, describedBy, hint, extra = [] }) {
  const attrs = { 'aria-label': label };
  if (describedBy) attrs['aria-describedby'] = describedBy;
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(highlight),
    lintGutter(),
    theme,
    EditorView.contentAttributes.of(attrs),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab,
      // Escape, then Tab within two seconds, moves the focus out of the editor.
      { key: 'Escape', run: temporarilySetTabFocusMode },
    ]),
    hint ? placeholder(hint) : [],
    ...extra,
  ];
}

// ---- the run's error, marked at its line -----------------------------------------

export const setRunError = StateEffect.define();

class RunErrorWidget extends WidgetType {
  constructor(text) {
    super();
    this.text = text;
  }
  eq(other) {
    return other.text === this.text;
  }
  toDOM() {
    const span = document.createElement('span');
    span.className = 'cm-run-error-message';
    span.textContent = this.text;
    return span;
  }
}

/**
 * The error of the last run (kind, message, line, column), as a line
 * decoration, an underline at its column and its message after the line.
 */
const runErrorField = StateField.define({
  create: () => Decoration.none,
  update(decorations, tr) {
    decorations = decorations.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setRunError)) continue;
      const err = effect.value;
      if (!err || !err.line || err.line < 1 || err.line > tr.state.doc.lines) {
        decorations = Decoration.none;
        continue;
      }
      const line = tr.state.doc.line(err.line);
      const ranges = [
        Decoration.line({
          class: 'cm-run-error-line',
          attributes: { 'data-error-kind': err.kind ?? 'error', title: `${err.kind}: ${err.message}` },
        }).range(line.from),
      ];
      if (err.column && err.column >= 1) {
        const from = Math.min(line.from + err.column - 1, line.to);
        const wordEnd = /^[\w$]+/.exec(tr.state.doc.sliceString(from, line.to));
        const to = Math.min(line.to, from + Math.max(1, wordEnd ? wordEnd[0].length : 1));
        if (to > from) ranges.push(Decoration.mark({ class: 'cm-run-error-mark' }).range(from, to));
      }
      ranges.push(
        Decoration.widget({ widget: new RunErrorWidget(`${err.kind}: ${err.message}`), side: 1 }).range(line.to),
      );
      decorations = Decoration.set(ranges, true);
    }
    return decorations;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// ---- TypeScript: diagnostics, completions, hover ---------------------------------

/**
 * TS1065 ("the return type of an async function must be the global
 * Promise<T> type"): TypeScript 5/6, the last JavaScript implementation and so
 * the one a browser can run, reports it for an async arrow typed
 * `Promise<T> | T` by JSDoc, as every style's entry-point type is; the repo's
 * pinned tsc 7 (tests/types) accepts it. The playground follows tsc 7.
 */
const IGNORED_TS_CODES = new Set([1065]);

const COMPLETION_TYPES = {
  method: 'method',
  function: 'function',
  'local function': 'function',
  property: 'property',
  getter: 'property',
  setter: 'property',
  var: 'variable',
  let: 'variable',
  const: 'constant',
  'local var': 'variable',
  parameter: 'variable',
  class: 'class',
  interface: 'interface',
  type: 'type',
  enum: 'enum',
  keyword: 'keyword',
  module: 'namespace',
  string: 'text',
};

function infoNode(details) {
  if (!details) return null;
  const box = document.createElement('div');
  box.className = 'cm-ts-info';
  const sig = document.createElement('code');
  sig.textContent = details.signature;
  box.appendChild(sig);
  if (details.documentation) {
    const doc = document.createElement('p');
    doc.textContent = details.documentation;
    box.appendChild(doc);
  }
  return box;
}

function tsExtensions(ts) {
  const lint = linter(
    async (view) => {
      const text = view.state.doc.toString();
      let diags;
      let types;
      try {
        ({ diagnostics: diags, types } = await ts.request('diagnostics', { text }));
      } catch {
        return [];
      }
      const shown = diags
        .filter((d) => !IGNORED_TS_CODES.has(d.code))
        .map((d) => ({
          from: d.from,
          to: d.to,
          severity: d.severity,
          source: `TypeScript TS${d.code}`,
          message: d.message,
        }));
      // For the tests: against which declarations, which text (its length) was
      // checked, and how many errors it has.
      view.dom.dataset.tsChecked = `${types}:${text.length}:${shown.filter((d) => d.severity === 'error').length}`;
      return shown;
    },
    { delay: 350 },
  );

  async function complete(context) {
    const word = context.matchBefore(/[\w$]*/);
    const from = word ? word.from : context.pos;
    const before = context.state.sliceDoc(Math.max(0, from - 1), from);
    if (!context.explicit && from === context.pos && before !== '.') return null;
    const text = context.state.doc.toString();
    let result;
    try {
      result = await ts.request('completions', { text, pos: context.pos });
    } catch {
      return null;
    }
    if (context.aborted || !result || result.entries.length === 0) return null;
    const pos = context.pos;
    return {
      from,
      validFor: /^[\w$]*$/,
      options: result.entries.map((e) => ({
        label: e.name,
        type: COMPLETION_TYPES[e.kind] ?? 'variable',
        detail: e.optional ? '(optional)' : undefined,
        boost: -Number.parseInt(e.sortText, 10) || 0,
        apply: e.insertText ?? e.name,
        info: async () => infoNode(await ts.request('details', { text, pos, name: e.name }).catch(() => null)),
      })),
    };
  }

  const hover = hoverTooltip(async (view, pos) => {
    const text = view.state.doc.toString();
    const info = await ts.request('quickInfo', { text, pos }).catch(() => null);
    if (!info) return null;
    return {
      pos: info.from,
      end: info.to,
      above: true,
      create: () => ({ dom: infoNode(info) }),
    };
  });

  return [lint, autocompletion({ override: [complete], activateOnTyping: true }), hover];
}

/** The script editor. `ts` is a TsClient; `onRun` is bound to Ctrl/Cmd+Enter. */
export function createScriptEditor(parent, { ts, onRun, onChange, describedBy }) {
  const runKeys = keymap.of([
    { key: 'Mod-Enter', run: () => (onRun(), true), preventDefault: true },
  ]);
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        runKeys,
        base({ label: 'Script (JavaScript)', describedBy }),
        javascript(),
        runErrorField,
        tsExtensions(ts),
        EditorView.updateListener.of((u) => u.docChanged && onChange?.()),
      ],
    }),
  });
}

/** Re-runs the TypeScript check (after the declarations changed). */
export function relint(view) {
  forceLinting(view);
}

// ---- inputs ------------------------------------------------------------------------

/**
 * A JSON input editor; `check(value)` returns an extra message for a value
 * that parses but is not what the server takes (or null). Empty means "not sent"
 * when `optional`.
 */
export function createJsonEditor(parent, { label, describedBy, hint, optional, check, onRun, onChange }) {
  const parseLint = jsonParseLinter();
  const lint = linter(
    (view) => {
      const text = view.state.doc.toString();
      if (text.trim() === '') {
        return optional
          ? []
          : [{ from: 0, to: 0, severity: 'error', message: `${label}: required (an object)` }];
      }
      const syntax = parseLint(view);
      if (syntax.length > 0) return syntax;
      const problem = check ? check(JSON.parse(text)) : null;
      return problem ? [{ from: 0, to: Math.min(text.length, 1), severity: 'error', message: problem }] : [];
    },
    { delay: 200 },
  );
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        keymap.of([{ key: 'Mod-Enter', run: () => (onRun(), true), preventDefault: true }]),
        base({ label, describedBy, hint }),
        json(),
        lint,
        EditorView.updateListener.of((u) => u.docChanged && onChange?.()),
      ],
    }),
  });
}

export const setServerGrantsError = StateEffect.define();

/** The server's own verdict on the grants (422 invalid_grants), kept until the text changes. */
const serverGrantsError = StateField.define({
  create: () => null,
  update(value, tr) {
    if (tr.docChanged) value = null;
    for (const e of tr.effects) if (e.is(setServerGrantsError)) value = e.value;
    return value;
  },
});

/** The grants editor (TOML), checked by grants-lint.js and by the server's 422. */
export function createTomlEditor(parent, { label, describedBy, hint, onRun, onChange }) {
  const lint = linter(
    (view) => {
      const doc = view.state.doc;
      const toDiag = (p, source) => {
        const line = doc.line(Math.min(Math.max(p.line ?? 1, 1), doc.lines));
        const from = p.column ? Math.min(line.from + p.column - 1, line.to) : line.from;
        return { from, to: p.column ? Math.min(from + 1, line.to) : line.to, severity: 'error', source, message: p.message };
      };
      const out = checkGrants(doc.toString()).map((p) => toDiag(p, 'grants'));
      const server = view.state.field(serverGrantsError);
      if (server) out.push(toDiag(server, 'server'));
      return out;
    },
    { delay: 200, needsRefresh: (u) => u.transactions.some((tr) => tr.effects.some((e) => e.is(setServerGrantsError))) },
  );
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        keymap.of([{ key: 'Mod-Enter', run: () => (onRun(), true), preventDefault: true }]),
        base({ label, describedBy, hint }),
        StreamLanguage.define(toml),
        serverGrantsError,
        lint,
        EditorView.updateListener.of((u) => u.docChanged && onChange?.()),
      ],
    }),
  });
}

/** Replaces an editor's whole text. */
export function setText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Moves the cursor to a 1-based line and column and focuses the editor. */
export function goTo(view, line, column) {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const pos = Math.min(l.from + Math.max((column ?? 1) - 1, 0), l.to);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}
