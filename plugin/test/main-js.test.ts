// The built main.js (what a vault's .obsidian/plugins/vaultsync/ holds) loads in Node with
// the stand-in `obsidian` module, and its onload registers its commands, its view, its
// editor extension, its settings tab and status bar; then it finds a daemon and connects.
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import Module, { createRequire } from "module";
import * as path from "path";
import { fileURLToPath } from "url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as obsidian from "./obsidian-stub";
import { FakeDaemon, diagnostic, tempVault, until } from "./fake-daemon";

const PLUGIN_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MAIN_JS = path.join(PLUGIN_DIR, "main.js");

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleWithLoad = Module as unknown as { _load: Loader };

describe("main.js", () => {
  const original = moduleWithLoad._load;
  beforeAll(() => {
    execFileSync(process.execPath, ["esbuild.config.mjs", "production"], { cwd: PLUGIN_DIR, stdio: "pipe" });
    moduleWithLoad._load = function (request, parent, isMain) {
      return request === "obsidian" ? obsidian : original.call(this, request, parent, isMain);
    };
  }, 60_000);
  afterAll(() => {
    moduleWithLoad._load = original;
  });

  it("loads, registers its commands and its view, and connects to the vault's daemon", async () => {
    const require = createRequire(import.meta.url);
    const exported = require(MAIN_JS) as { default: new (app: unknown, manifest: unknown) => obsidian.Plugin };
    const manifest = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "manifest.json"), "utf8")) as { id: string };
    const dir = await tempVault();
    const { app, stub } = obsidian.createApp(dir);
    const plugin = new exported.default(app, manifest);
    await plugin.onload();

    expect(plugin.commands.map((c) => c.id)).toEqual([
      "fix-note",
      "fix-vault",
      "show-problems",
      "rescan",
      "start-daemon",
      "stop-daemon",
    ]);
    expect(plugin.commands.map((c) => c.name)).toContain("Fix the vault (preview first)");
    expect(plugin.views).toEqual(["vaultsync-health"]);
    expect(plugin.editorExtensions).toHaveLength(1);
    expect(plugin.settingTabs).toHaveLength(1);
    const status = plugin.statusBar[0] as unknown as obsidian.StubElement;
    expect(status.text).toBe("vaultsync: connecting…");

    for (const ready of stub.workspace.layoutReady) ready();
    await until(() => status.text === "vaultsync: not running");
    expect(status.attrs.title).toContain(`vaultsync watch ${dir}`);

    const daemon = await new FakeDaemon().listen();
    daemon.diagnostics = [diagnostic({ path: "Note.md" }), diagnostic({ path: "Other.md" })];
    await daemon.advertise(dir);
    stub.workspace.activeFile = new obsidian.TFile("Note.md") as never;
    stub.workspace.trigger("file-open");
    await until(() => status.text === "vaultsync: 1 problem · connected", 5000);
    expect(JSON.stringify(status.attrs)).not.toContain(daemon.token);

    plugin.unload();
    await until(() => daemon.openStreams === 0);
    await daemon.close();
  });

  it("has a manifest Obsidian's community list accepts", () => {
    const manifest = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "manifest.json"), "utf8")) as Record<string, unknown>;
    expect(String(manifest.id)).not.toMatch(/obsidian/i);
    expect(manifest.isDesktopOnly).toBe(true);
    expect(manifest.minAppVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.version).toBe(pkg.version);
    const versions = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "versions.json"), "utf8")) as Record<string, unknown>;
    expect(versions[String(manifest.version)]).toBe(manifest.minAppVersion);
  });
});
