// What the plugin knows of the vault's problems, and what the view and status bar show
// of it. No Obsidian here: plain data in, plain data out.
import type { ApiDiagnostic, Severity } from "./api";
import { SEVERITIES } from "./api";

export type DaemonState = "connecting" | "connected" | "reconnecting" | "not running";

/** Paths as keys: NFC, as the daemon reports them (macOS may hand Obsidian NFD names). */
export function pathKey(path: string): string {
  return path.normalize("NFC");
}

/** `paths`: the notes whose problems changed; null: any may have. */
export type StoreListener = (paths: ReadonlySet<string> | null) => void;

/** The latest diagnostics of every note, as the daemon last sent them. */
export class DiagnosticsStore {
  private byPath = new Map<string, ApiDiagnostic[]>();
  private listeners = new Set<StoreListener>();
  private total = 0;

  /** A whole snapshot (`GET /v1/diagnostics`) replaces everything known. */
  replaceAll(diagnostics: readonly ApiDiagnostic[]): void {
    const next = new Map<string, ApiDiagnostic[]>();
    for (const d of diagnostics) {
      const key = pathKey(d.path);
      const list = next.get(key);
      if (list === undefined) next.set(key, [d]);
      else list.push(d);
    }
    this.byPath = next;
    this.total = diagnostics.length;
    this.emit(null);
  }

  /** One note's diagnostics (the SSE `diagnostics` event); an empty list removes it. */
  setNote(path: string, diagnostics: readonly ApiDiagnostic[]): void {
    const key = pathKey(path);
    this.total -= this.byPath.get(key)?.length ?? 0;
    if (diagnostics.length === 0) this.byPath.delete(key);
    else this.byPath.set(key, [...diagnostics]);
    this.total += diagnostics.length;
    this.emit(new Set([key]));
  }

  note(path: string): readonly ApiDiagnostic[] {
    return this.byPath.get(pathKey(path)) ?? [];
  }

  *all(): Iterable<ApiDiagnostic> {
    for (const list of this.byPath.values()) yield* list;
  }

  get size(): number {
    return this.total;
  }

  get noteCount(): number {
    return this.byPath.size;
  }

  /** Tell listeners that everything may look different (e.g. the severity filter changed). */
  touch(): void {
    this.emit(null);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(paths: ReadonlySet<string> | null): void {
    for (const listener of [...this.listeners]) listener(paths);
  }
}

export function visible(
  diagnostics: Iterable<ApiDiagnostic>,
  shown: ReadonlySet<Severity>,
): ApiDiagnostic[] {
  const out: ApiDiagnostic[] = [];
  for (const d of diagnostics) if (shown.has(d.severity)) out.push(d);
  return out;
}

export interface RuleGroup {
  code: string;
  rule: string;
  /** The worst severity among the group's problems. */
  severity: Severity;
  count: number;
  /** Notes the group's problems are in. */
  notes: number;
  items: ApiDiagnostic[];
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Problems grouped by rule: errors first, then by count (most first), then by code;
 * inside a group by note, line, column. */
export function groupByRule(diagnostics: Iterable<ApiDiagnostic>): RuleGroup[] {
  const groups = new Map<string, RuleGroup>();
  for (const d of diagnostics) {
    let group = groups.get(d.code);
    if (group === undefined) {
      group = { code: d.code, rule: d.rule, severity: d.severity, count: 0, notes: 0, items: [] };
      groups.set(d.code, group);
    }
    if (RANK[d.severity] < RANK[group.severity]) group.severity = d.severity;
    group.count += 1;
    group.items.push(d);
  }
  for (const group of groups.values()) {
    group.items.sort(byPlace);
    group.notes = new Set(group.items.map((d) => d.path)).size;
  }
  return [...groups.values()].sort(
    (a, b) => RANK[a.severity] - RANK[b.severity] || b.count - a.count || a.code.localeCompare(b.code),
  );
}

export function byPlace(a: ApiDiagnostic, b: ApiDiagnostic): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

/** "line:column" as a person counts (1-based). */
export function place(d: ApiDiagnostic): string {
  return `${d.range.start.line + 1}:${d.range.start.character + 1}`;
}

export interface Section {
  count: number;
  notes: number;
  groups: RuleGroup[];
}

export interface Health {
  state: DaemonState;
  /** Why the daemon is not reachable, and how to start it (never the token). */
  detail: string;
  activePath: string | null;
  note: Section | null;
  vault: Section;
}

export function section(diagnostics: readonly ApiDiagnostic[]): Section {
  return {
    count: diagnostics.length,
    notes: new Set(diagnostics.map((d) => d.path)).size,
    groups: groupByRule(diagnostics),
  };
}

/** Everything the "Vault health" view shows. */
export function buildHealth(
  store: DiagnosticsStore,
  activePath: string | null,
  shown: ReadonlySet<Severity>,
  state: DaemonState,
  detail: string,
): Health {
  return {
    state,
    detail,
    activePath,
    note: activePath === null ? null : section(visible(store.note(activePath), shown)),
    vault: section(visible(store.all(), shown)),
  };
}

const STATE_LABEL: Record<DaemonState, string> = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  "not running": "not running",
};

/** The status bar: the active note's problem count and the daemon's state. */
export function statusText(state: DaemonState, noteProblems: number | null): string {
  if (state !== "connected" || noteProblems === null) return `vaultsync: ${STATE_LABEL[state]}`;
  const count = noteProblems === 0 ? "no problems" : noteProblems === 1 ? "1 problem" : `${noteProblems} problems`;
  return `vaultsync: ${count} · ${STATE_LABEL[state]}`;
}

export function stateLabel(state: DaemonState): string {
  return STATE_LABEL[state];
}

export function severitySet(flags: Record<Severity, boolean>): Set<Severity> {
  return new Set(SEVERITIES.filter((s) => flags[s]));
}

/** One line per fixed rule: "L002 ×3, S001". */
export function fixedSummary(fixed: Record<string, number>): string {
  return Object.entries(fixed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => (n === 1 ? code : `${code} ×${n}`))
    .join(", ");
}

/** The command a person runs to start the daemon on this vault. */
export function startCommand(command: string, vaultDir: string): string {
  return `${quote(command)} watch ${quote(vaultDir)}`;
}

function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
