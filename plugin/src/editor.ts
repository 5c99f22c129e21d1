// Underlines in the editor: the active note's problems as CodeMirror 6 lint diagnostics,
// with the rule code and message on hover, and a button for the problem's fix.
//
// The daemon's ranges are 0-based lines and UTF-16 columns, which is how CodeMirror counts
// offsets, so a position converts by line start + column. A fix is applied to the editor's
// text only where that text is still what it was when the problem arrived: edits made
// since are mapped through, and an edit whose text was typed over is refused, never guessed.
import { setDiagnostics, setDiagnosticsEffect, type Action, type Diagnostic } from "@codemirror/lint";
import { ChangeSet, StateField, type ChangeDesc, type EditorState, type Extension, type Text } from "@codemirror/state";
import { ViewPlugin, type EditorView, type PluginValue, type ViewUpdate } from "@codemirror/view";
import type { ApiDiagnostic, Position } from "./api";
import { pathKey } from "./model";

/** Where the editor's problems come from (the plugin's store, filtered by severity). */
export interface LintSource {
  diagnosticsFor(path: string): readonly ApiDiagnostic[];
  /** `paths`: notes whose problems changed; null: any may have. Returns an unsubscribe. */
  subscribe(listener: (paths: ReadonlySet<string> | null) => void): () => void;
}

export interface LintOptions {
  /** The vault path of the note an editor shows (Obsidian: its editorInfoField). */
  pathOf(state: EditorState): string | null;
  /** A fix was refused because its text changed since the problem was reported. */
  onStaleFix?(diagnostic: ApiDiagnostic): void;
}

/** The offset of an API position in `doc`, clamped into the document. */
export function offsetOf(doc: Text, position: Position): number {
  if (position.line < 0) return 0;
  if (position.line >= doc.lines) return doc.length;
  const line = doc.line(position.line + 1);
  return line.from + Math.max(0, Math.min(position.character, line.length));
}

interface PlannedEdit {
  from: number;
  to: number;
  insert: string;
  /** The text the edit replaces, as it was when the problem arrived. */
  expected: string;
}

/** The edits made to the document since the diagnostics were last set. */
export const changesSinceSet = StateField.define<ChangeDesc>({
  create: (state) => ChangeSet.empty(state.doc.length).desc,
  update(value, tr) {
    if (tr.effects.some((e) => e.is(setDiagnosticsEffect))) return ChangeSet.empty(tr.newDoc.length).desc;
    return tr.docChanged ? value.composeDesc(tr.changes.desc) : value;
  },
});

/** The edits of `planned`, moved through the changes since; null if any was typed over. */
export function rebase(state: EditorState, planned: readonly PlannedEdit[]): PlannedEdit[] | null {
  const since = state.field(changesSinceSet, false) ?? ChangeSet.empty(state.doc.length).desc;
  const out: PlannedEdit[] = [];
  for (const edit of planned) {
    const from = since.mapPos(edit.from, 1);
    const to = edit.to === edit.from ? from : since.mapPos(edit.to, -1);
    if (to < from || state.doc.sliceString(from, to) !== edit.expected) return null;
    out.push({ ...edit, from, to });
  }
  return out;
}

function shorten(text: string, max = 60): string {
  const flat = text.replace(/\r?\n/g, "⏎");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** What the fix does, in a few words. */
export function describeFix(edits: readonly PlannedEdit[]): string {
  if (edits.length !== 1) return `${edits.length} edits`;
  const [edit] = edits as [PlannedEdit];
  if (edit.insert === "") return `delete “${shorten(edit.expected)}”`;
  if (edit.expected === "") return `insert “${shorten(edit.insert)}”`;
  return `replace with “${shorten(edit.insert)}”`;
}

/** The lint diagnostics of `diagnostics` in `doc`. */
export function toCmDiagnostics(
  doc: Text,
  diagnostics: readonly ApiDiagnostic[],
  onStaleFix?: (diagnostic: ApiDiagnostic) => void,
): Diagnostic[] {
  return diagnostics.map((d) => {
    const from = offsetOf(doc, d.range.start);
    const to = Math.max(from, offsetOf(doc, d.range.end));
    const cm: Diagnostic = {
      from,
      to,
      severity: d.severity,
      source: `vaultsync ${d.code} ${d.rule}`,
      message: d.message,
      markClass: "vaultsync-problem",
    };
    if (d.fix !== null && d.fix.applicability !== "none" && d.fix.edits.length > 0) {
      const planned = d.fix.edits.map((e) => {
        const a = offsetOf(doc, e.range.start);
        const b = Math.max(a, offsetOf(doc, e.range.end));
        return { from: a, to: b, insert: e.new_text, expected: doc.sliceString(a, b) };
      });
      const unsafe = d.fix.applicability === "unsafe";
      cm.message = `${d.message}\nFix${unsafe ? " (unsafe)" : ""}: ${describeFix(planned)}`;
      const action: Action = {
        name: unsafe ? "Apply unsafe fix" : "Fix",
        apply: (view) => {
          const edits = rebase(view.state, planned);
          if (edits === null) {
            onStaleFix?.(d);
            return;
          }
          view.dispatch({
            changes: edits.map(({ from: a, to: b, insert }) => ({ from: a, to: b, insert })),
            userEvent: "input.vaultsync-fix",
          });
        },
      };
      cm.actions = [action];
    }
    return cm;
  });
}

/** The editor extension: each editor shows the problems of the note it holds, kept
 * current as the source changes (new problems arrive over the daemon's events). */
export function vaultsyncLint(source: LintSource, options: LintOptions): Extension {
  const bridge = ViewPlugin.fromClass(
    class implements PluginValue {
      private path: string | null;
      private scheduled = false;
      private destroyed = false;
      private readonly unsubscribe: () => void;

      constructor(readonly view: EditorView) {
        this.path = options.pathOf(view.state);
        this.unsubscribe = source.subscribe((paths) => {
          if (paths === null || (this.path !== null && paths.has(pathKey(this.path)))) this.schedule();
        });
        this.schedule();
      }

      update(update: ViewUpdate): void {
        const path = options.pathOf(update.state);
        if (path !== this.path) {
          this.path = path; // the editor now holds another note (or a renamed one)
          this.schedule();
        }
      }

      /** Dispatch outside CodeMirror's update cycle (dispatching inside it throws). */
      private schedule(): void {
        if (this.scheduled) return;
        this.scheduled = true;
        void Promise.resolve().then(() => {
          this.scheduled = false;
          if (!this.destroyed) this.push();
        });
      }

      private push(): void {
        const diagnostics = this.path === null ? [] : source.diagnosticsFor(this.path);
        const cm = toCmDiagnostics(this.view.state.doc, diagnostics, options.onStaleFix);
        this.view.dispatch(setDiagnostics(this.view.state, cm));
      }

      destroy(): void {
        this.destroyed = true;
        this.unsubscribe();
      }
    },
  );
  return [changesSinceSet, bridge];
}
