// @vitest-environment happy-dom
import { diagnosticCount, forEachDiagnostic, type Diagnostic } from "@codemirror/lint";
import { EditorState, StateEffect, StateField, Text } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApiDiagnostic } from "../src/api";
import { offsetOf, toCmDiagnostics, vaultsyncLint } from "../src/editor";
import { DiagnosticsStore } from "../src/model";
import { diagnostic } from "./fake-daemon";

const EMOJI_NOTE = "# E\n\n😀 x [[Nowhere]] and [[topic]]\n";

/** A diagnostic over `target` in `text`, with positions counted as the daemon does. */
function over(text: string, target: string, extra: Partial<ApiDiagnostic> = {}): ApiDiagnostic {
  const index = text.indexOf(target);
  const before = text.slice(0, index).split("\n");
  const line = before.length - 1;
  const character = (before[line] ?? "").length; // JS string length = UTF-16 units
  return diagnostic({
    range: { start: { line, character }, end: { line, character: character + target.length } },
    ...extra,
  });
}

const variantFix = (text: string): ApiDiagnostic => {
  const d = over(text, "[[topic]]", { code: "L009", rule: "link-case", message: 'Link "topic" is spelled "Topic"' });
  return { ...d, fix: { applicability: "safe", edits: [{ range: d.range, new_text: "[[Topic]]" }] } };
};

function all(state: EditorState): Diagnostic[] {
  const out: Diagnostic[] = [];
  forEachDiagnostic(state, (d, from, to) => out.push({ ...d, from, to }));
  return out;
}

/** A minimal view for running an action: what `Action.apply` uses of an EditorView. */
function fakeView(state: EditorState): EditorView {
  const view = {
    state,
    dispatch(...specs: Parameters<EditorView["dispatch"]>) {
      view.state = view.state.update(...(specs as [])).state;
    },
  };
  return view as unknown as EditorView;
}

describe("positions", () => {
  it("turns 0-based lines and UTF-16 columns into offsets (an emoji counts two)", () => {
    const doc = Text.of(EMOJI_NOTE.split("\n"));
    const d = over(EMOJI_NOTE, "[[Nowhere]]");
    expect(d.range.start).toEqual({ line: 2, character: 5 });
    const from = offsetOf(doc, d.range.start);
    expect(doc.sliceString(from, offsetOf(doc, d.range.end))).toBe("[[Nowhere]]");
  });

  it("clamps positions past a line's or the document's end", () => {
    const doc = Text.of(["ab", "c"]);
    expect(offsetOf(doc, { line: 0, character: 99 })).toBe(2);
    expect(offsetOf(doc, { line: 9, character: 0 })).toBe(doc.length);
    expect(offsetOf(doc, { line: -1, character: 3 })).toBe(0);
  });
});

describe("lint diagnostics", () => {
  it("carry severity, the rule code as source, the message and the fix", () => {
    const doc = Text.of(EMOJI_NOTE.split("\n"));
    const [broken, variant] = toCmDiagnostics(doc, [over(EMOJI_NOTE, "[[Nowhere]]"), variantFix(EMOJI_NOTE)]);
    expect(broken).toMatchObject({ severity: "warning", source: "vaultsync L001 broken-link" });
    expect(broken?.message).toBe('Broken link: no note or file matches "x"');
    expect(broken?.actions).toBeUndefined();
    expect(variant?.source).toBe("vaultsync L009 link-case");
    expect(variant?.message).toBe('Link "topic" is spelled "Topic"\nFix: replace with “[[Topic]]”');
    expect(variant?.actions?.map((a) => a.name)).toEqual(["Fix"]);
  });

  it("apply their fix to the editor's text", () => {
    const state = EditorState.create({ doc: EMOJI_NOTE, extensions: vaultsyncLint(noSource, { pathOf: () => null }) });
    const view = fakeView(state);
    const [d] = toCmDiagnostics(state.doc, [variantFix(EMOJI_NOTE)]);
    d?.actions?.[0]?.apply(view, d.from, d.to);
    expect(view.state.doc.toString()).toBe(EMOJI_NOTE.replace("[[topic]]", "[[Topic]]"));
  });

  it("move a fix past text typed elsewhere since, and refuse one whose text was typed over", () => {
    const stale = vi.fn();
    const extension = vaultsyncLint(noSource, { pathOf: () => null });
    const problem = variantFix(EMOJI_NOTE);
    const start = EditorState.create({ doc: EMOJI_NOTE, extensions: extension });
    const [d] = toCmDiagnostics(start.doc, [problem], stale);
    const action = d?.actions?.[0];

    const view = fakeView(start);
    view.dispatch({ changes: { from: 0, insert: "New first line\n" } });
    action?.apply(view, 0, 0);
    expect(view.state.doc.toString()).toBe(`New first line\n${EMOJI_NOTE.replace("[[topic]]", "[[Topic]]")}`);
    expect(stale).not.toHaveBeenCalled();

    const typedOver = fakeView(start);
    const inside = EMOJI_NOTE.indexOf("[[topic]]") + 3;
    typedOver.dispatch({ changes: { from: inside, insert: "s" } }); // [[tsopic]]
    action?.apply(typedOver, 0, 0);
    expect(typedOver.state.doc.toString()).toContain("[[tsopic]]");
    expect(stale).toHaveBeenCalledWith(problem);
  });
});

const noSource = { diagnosticsFor: () => [], subscribe: () => () => {} };

describe("the editor extension in an editor", () => {
  const views: EditorView[] = [];
  afterEach(() => {
    for (const v of views.splice(0)) v.destroy();
  });

  // Stands in for Obsidian's editorInfoField: which note the editor holds.
  const setPath = StateEffect.define<string | null>();
  const pathField = StateField.define<string | null>({
    create: () => "Note.md",
    update(value, tr) {
      const effect = tr.effects.find((e) => e.is(setPath));
      return effect === undefined ? value : (effect.value as string | null);
    },
  });

  function editor(store: DiagnosticsStore, doc: string): EditorView {
    const extension = vaultsyncLint(
      { diagnosticsFor: (p) => store.note(p), subscribe: (l) => store.subscribe(l) },
      { pathOf: (state) => state.field(pathField) },
    );
    const view = new EditorView({ state: EditorState.create({ doc, extensions: [pathField, extension] }) });
    document.body.appendChild(view.dom);
    views.push(view);
    return view;
  }

  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("underlines the note's problems and follows the store", async () => {
    const store = new DiagnosticsStore();
    store.replaceAll([{ ...over(EMOJI_NOTE, "[[Nowhere]]"), path: "Note.md" }, diagnostic({ path: "Other.md" })]);
    const view = editor(store, EMOJI_NOTE);
    await tick();
    expect(diagnosticCount(view.state)).toBe(1);
    const [shown] = all(view.state);
    expect(view.state.doc.sliceString(shown?.from ?? 0, shown?.to ?? 0)).toBe("[[Nowhere]]");
    expect(view.dom.querySelectorAll(".cm-lintRange-warning").length).toBe(1);

    store.setNote("Other.md", []); // another note: nothing to redo here
    store.setNote("Note.md", [{ ...variantFix(EMOJI_NOTE), path: "Note.md" }, { ...over(EMOJI_NOTE, "[[Nowhere]]"), path: "Note.md" }]);
    await tick();
    expect(all(view.state).map((d) => d.source)).toEqual(["vaultsync L001 broken-link", "vaultsync L009 link-case"]);

    store.setNote("Note.md", []);
    await tick();
    expect(diagnosticCount(view.state)).toBe(0);
  });

  it("shows the problems of the note it holds after switching notes", async () => {
    const store = new DiagnosticsStore();
    const second = { start: { line: 0, character: 5 }, end: { line: 0, character: 9 } };
    store.replaceAll([diagnostic({ path: "Note.md" }), diagnostic({ path: "B.md" }), diagnostic({ path: "B.md", range: second })]);
    const view = editor(store, "some text\n");
    await tick();
    expect(diagnosticCount(view.state)).toBe(1);
    view.dispatch({ effects: setPath.of("B.md") });
    await tick();
    expect(diagnosticCount(view.state)).toBe(2);
    view.dispatch({ effects: setPath.of(null) });
    await tick();
    expect(diagnosticCount(view.state)).toBe(0);
  });

  it("stops listening once the editor is gone", async () => {
    const store = new DiagnosticsStore();
    const view = editor(store, "x\n");
    await tick();
    view.destroy();
    store.setNote("Note.md", [diagnostic({ path: "Note.md" })]);
    await tick(); // no dispatch on a destroyed view (it would throw)
    expect(diagnosticCount(view.state)).toBe(0);
  });
});
