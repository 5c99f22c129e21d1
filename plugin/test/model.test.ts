import { describe, expect, it, vi } from "vitest";
import {
  DiagnosticsStore,
  buildHealth,
  fixedSummary,
  groupByRule,
  place,
  severitySet,
  startCommand,
  statusText,
} from "../src/model";
import { DEFAULT_SETTINGS, mergeSettings } from "../src/settings";
import { diagnostic } from "./fake-daemon";

const at = (line: number, character: number) => ({
  start: { line, character },
  end: { line, character: character + 3 },
});

describe("DiagnosticsStore", () => {
  it("keeps each note's latest diagnostics and the total, and tells listeners what changed", () => {
    const store = new DiagnosticsStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.replaceAll([diagnostic({ path: "a.md" }), diagnostic({ path: "a.md" }), diagnostic({ path: "b.md" })]);
    expect(listener).toHaveBeenLastCalledWith(null);
    expect(store.size).toBe(3);
    expect(store.noteCount).toBe(2);
    store.setNote("a.md", [diagnostic({ path: "a.md" })]);
    expect(listener).toHaveBeenLastCalledWith(new Set(["a.md"]));
    expect(store.size).toBe(2);
    store.setNote("b.md", []);
    expect(store.size).toBe(1);
    expect(store.noteCount).toBe(1);
    expect([...store.all()].map((d) => d.path)).toEqual(["a.md"]);
  });

  it("finds a note by its NFC name when Obsidian hands it an NFD one (macOS)", () => {
    const store = new DiagnosticsStore();
    store.replaceAll([diagnostic({ path: "Caf\u00e9.md" })]);
    expect(store.note("Cafe\u0301.md")).toHaveLength(1);
  });
});

describe("view model", () => {
  const diagnostics = [
    diagnostic({ path: "b.md", code: "L002", rule: "link-variant", severity: "warning", range: at(4, 2) }),
    diagnostic({ path: "a.md", code: "L002", rule: "link-variant", severity: "warning", range: at(9, 0) }),
    diagnostic({ path: "a.md", code: "L002", rule: "link-variant", severity: "warning", range: at(1, 7) }),
    diagnostic({ path: "a.md", code: "F002", rule: "schema", severity: "error", range: at(0, 0) }),
    diagnostic({ path: "c.md", code: "S001", rule: "backlinks", severity: "info", range: at(0, 0) }),
    diagnostic({ path: "c.md", code: "L001", rule: "broken-link", severity: "warning", range: at(2, 0) }),
  ];

  it("groups by rule: errors first, then the biggest groups, items by note, line and column", () => {
    const groups = groupByRule(diagnostics);
    expect(groups.map((g) => [g.code, g.count, g.notes])).toEqual([
      ["F002", 1, 1],
      ["L002", 3, 2],
      ["L001", 1, 1],
      ["S001", 1, 1],
    ]);
    expect(groups[1]?.items.map((d) => `${d.path} ${place(d)}`)).toEqual(["a.md 2:8", "a.md 10:1", "b.md 5:3"]);
  });

  it("builds the view: the active note's problems and the vault's, only the severities shown", () => {
    const store = new DiagnosticsStore();
    store.replaceAll(diagnostics);
    const health = buildHealth(store, "a.md", severitySet({ error: true, warning: true, info: false }), "connected", "");
    expect(health.note?.count).toBe(3);
    expect(health.note?.groups.map((g) => g.code)).toEqual(["F002", "L002"]);
    expect(health.vault.count).toBe(5); // the info (S001) is hidden
    expect(health.vault.notes).toBe(3);
    expect(buildHealth(store, null, severitySet(DEFAULT_SETTINGS.severities), "connected", "").note).toBeNull();
  });

  it("says the note's count and the daemon's state in the status bar", () => {
    expect(statusText("connected", 3)).toBe("vaultsync: 3 problems · connected");
    expect(statusText("connected", 1)).toBe("vaultsync: 1 problem · connected");
    expect(statusText("connected", 0)).toBe("vaultsync: no problems · connected");
    expect(statusText("connected", null)).toBe("vaultsync: connected");
    expect(statusText("reconnecting", 3)).toBe("vaultsync: reconnecting…");
    expect(statusText("not running", null)).toBe("vaultsync: not running");
  });

  it("writes the start command so that a shell runs it as is", () => {
    expect(startCommand("vaultsync", "/home/me/vault")).toBe("vaultsync watch /home/me/vault");
    expect(startCommand("/opt/my tools/vaultsync", "/home/me/My Vault's")).toBe(
      "'/opt/my tools/vaultsync' watch '/home/me/My Vault'\\''s'",
    );
  });

  it("sums up fixes per rule", () => {
    expect(fixedSummary({ S001: 1, L002: 3 })).toBe("L002 ×3, S001");
  });
});

describe("settings", () => {
  it("merges saved data over the defaults and drops what has the wrong type", () => {
    expect(mergeSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.startDaemon).toBe(false);
    expect(
      mergeSettings({ command: " /x/vaultsync ", startDaemon: "yes", severities: { info: false, error: 1 } }),
    ).toEqual({
      command: "/x/vaultsync",
      startDaemon: false,
      severities: { error: true, warning: true, info: false },
    });
  });
});
