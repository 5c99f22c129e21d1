// @vitest-environment happy-dom
// The plugin as a whole (src/main.ts on the stand-in `obsidian`) against a stand-in daemon:
// the view, the commands and their requests, the settings.
import { afterEach, describe, expect, it } from "vitest";
import type { FixOut } from "../src/api";
import VaultsyncPlugin from "../src/main";
import { HealthView, VIEW_TYPE } from "../src/view";
import * as obsidian from "./obsidian-stub";
import { FakeDaemon, diagnostic, tempVault, until } from "./fake-daemon";

const at = (line: number, character: number) => ({
  start: { line, character },
  end: { line, character: character + 5 },
});

async function setup() {
  const dir = await tempVault();
  const daemon = await new FakeDaemon().listen();
  daemon.diagnostics = [
    diagnostic({ path: "Note.md", code: "L009", rule: "link-case", range: at(2, 6), message: "spelled Topic" }),
    diagnostic({ path: "Note.md", code: "L001", rule: "broken-link", range: at(4, 0), message: "broken" }),
    diagnostic({ path: "Other.md", code: "L001", rule: "broken-link", range: at(1, 2), message: "broken too", severity: "info" }),
  ];
  await daemon.advertise(dir);
  const { app, stub } = obsidian.createApp(dir);
  for (const path of ["Note.md", "Other.md"]) stub.vault.files.set(path, new obsidian.TFile(path));
  const plugin = new VaultsyncPlugin(app, { id: "vaultsync" } as never);
  await plugin.onload();
  for (const ready of stub.workspace.layoutReady) ready();
  await until(() => plugin.connection?.state === "connected");
  return { dir, daemon, stub, plugin };
}

function command(plugin: VaultsyncPlugin, id: string): () => unknown {
  const found = (plugin as unknown as obsidian.Plugin).commands.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no command ${id}`);
  return () => (found.callback ? found.callback() : found.checkCallback?.(false));
}

function button(root: HTMLElement, text: string): HTMLButtonElement {
  const found = [...root.querySelectorAll("button")].find((b) => b.textContent === text);
  if (found === undefined) throw new Error(`no button "${text}" in ${root.textContent}`);
  return found;
}

describe("the plugin", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    obsidian.Notice.messages.length = 0;
  });

  it("shows the note's and the vault's problems by rule, and opens a problem at its place", async () => {
    const { daemon, stub, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    stub.workspace.activeFile = stub.vault.files.get("Note.md") as never;
    const view = await plugin.activateView();
    expect(view).toBeInstanceOf(HealthView);
    const root = (view as HealthView).contentEl;
    expect(root.textContent).toContain("Daemon connected");
    expect(root.querySelector(".vaultsync-note h4")?.textContent).toBe("This note: 2 problems");
    expect(root.querySelector(".vaultsync-vault h4")?.textContent).toBe("Vault: 3 problems in 2 notes");
    const groups = [...root.querySelectorAll(".vaultsync-vault summary")].map((s) => s.textContent);
    expect(groups).toEqual(["L001 broken-link2", "L009 link-case1"]);

    const details = root.querySelector(".vaultsync-vault details") as HTMLDetailsElement;
    details.open = true;
    details.dispatchEvent(new Event("toggle"));
    const items = [...details.querySelectorAll(".vaultsync-item")];
    expect(items.map((i) => i.textContent)).toEqual(["Note.md 5:1broken", "Other.md 2:3broken too"]);
    (items[1] as HTMLElement).click();
    await until(() => stub.workspace.activeFile?.path === "Other.md");
    const leaf = stub.workspace.leaves.find((l) => l.view instanceof obsidian.MarkdownView);
    const editor = (leaf?.view as unknown as obsidian.MarkdownView).editor as unknown as obsidian.StubEditor;
    await until(() => editor.cursor !== null);
    expect(editor.cursor).toEqual({ line: 1, ch: 2 });
  });

  it("follows the daemon's events in the view and the status bar", async () => {
    const { daemon, stub, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    stub.workspace.activeFile = stub.vault.files.get("Other.md") as never;
    stub.workspace.trigger("file-open");
    const status = (plugin as unknown as obsidian.Plugin).statusBar[0] as HTMLElement;
    expect(status.textContent).toBe("vaultsync: 1 problem · connected");
    daemon.emit("diagnostics", { path: "Other.md", diagnostics: [] });
    await until(() => status.textContent === "vaultsync: no problems · connected");
    daemon.dropConnections();
    await until(() => status.textContent === "vaultsync: reconnecting…");
  });

  it("fixes the active note: saves it, then asks the daemon", async () => {
    const { daemon, stub, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    const file = stub.vault.files.get("Note.md") as unknown as obsidian.TFile;
    const leaf = stub.workspace.getLeaf() as unknown as obsidian.WorkspaceLeaf;
    await leaf.openFile(file as never);
    daemon.fixReply = { dry_run: false, changed: [{ path: "Note.md", fixed: { L009: 1 }, diff: "" }], skipped: {}, remaining: 0 } satisfies FixOut;
    await command(plugin, "fix-note")();
    await until(() => daemon.count("/v1/fix") === 1);
    expect((leaf.view as unknown as obsidian.MarkdownView).saves).toBe(1);
    expect(JSON.parse(daemon.requests.find((r) => r.url === "/v1/fix")?.body ?? "")).toEqual({
      paths: ["Note.md"],
      select: [],
      dry_run: false,
    });
    await until(() => obsidian.Notice.messages.length > 0);
    expect(obsidian.Notice.messages).toEqual(["vaultsync: fixed L009 in Note"]);
  });

  it("fixes the vault only after a preview, and only the notes previewed", async () => {
    const { daemon, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    daemon.fixReply = {
      dry_run: true,
      changed: [
        { path: "Note.md", fixed: { L009: 2 }, diff: "--- a/Note.md\n+++ b/Note.md\n@@ -3 +3 @@\n-[[topic]]\n+[[Topic]]\n" },
        { path: "Other.md", fixed: { S001: 1 }, diff: "--- a/Other.md\n+++ b/Other.md\n@@ -1 +1,2 @@\n x\n+y\n" },
      ],
      skipped: {},
      remaining: 0,
    } satisfies FixOut;
    obsidian.Modal.opened.length = 0;
    await command(plugin, "fix-vault")();
    await until(() => obsidian.Modal.opened.length === 1);
    const modal = obsidian.Modal.opened[0] as obsidian.Modal;
    expect(modal.title).toBe("Fix the vault: 2 notes change");
    expect(modal.contentEl.querySelector(".vaultsync-del")?.textContent).toBe("-[[topic]]");
    expect(modal.contentEl.querySelector(".vaultsync-add")?.textContent).toBe("+[[Topic]]");
    const fixes = () => daemon.requests.filter((r) => r.url === "/v1/fix").map((r) => JSON.parse(r.body) as unknown);
    expect(fixes()).toEqual([{ paths: [], select: [], dry_run: true }]); // nothing written yet
    button(modal.contentEl, "Apply to 2 notes").click();
    await until(() => fixes().length === 2);
    expect(fixes()[1]).toEqual({ paths: ["Note.md", "Other.md"], select: [], dry_run: false });
  });

  it("hides the severities turned off in the settings", async () => {
    const { daemon, stub, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    stub.workspace.activeFile = stub.vault.files.get("Other.md") as never;
    obsidian.Setting.created.length = 0;
    const tab = (plugin as unknown as obsidian.Plugin).settingTabs[0] as unknown as { display(): void };
    tab.display();
    const infos = obsidian.Setting.created.find((s) => s.name === "Infos");
    await infos?.controls[0]?.change?.(false);
    const status = (plugin as unknown as obsidian.Plugin).statusBar[0] as HTMLElement;
    expect(status.textContent).toBe("vaultsync: no problems · connected");
    expect((plugin as unknown as obsidian.Plugin).data).toMatchObject({ severities: { info: false } });
    expect(stub.workspace.getLeavesOfType(VIEW_TYPE)).toHaveLength(0);
  });

  it("reports a failure in a notice, without the token", async () => {
    const { daemon, stub, plugin } = await setup();
    cleanup.push(() => daemon.close(), () => (plugin as unknown as obsidian.Plugin).unload());
    stub.workspace.activeFile = stub.vault.files.get("Note.md") as never;
    daemon.failWith = 500;
    await command(plugin, "rescan")();
    await until(() => obsidian.Notice.messages.length === 1);
    expect(obsidian.Notice.messages[0]).toBe("vaultsync: POST /v1/rescan: 500 failing on purpose");
    expect(obsidian.Notice.messages.join("\n")).not.toContain(daemon.token);
  });
});
