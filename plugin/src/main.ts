// vaultsync for Obsidian: the companion of `vaultsync watch`. Shows the vault's problems
// (side view, underlines, status bar) live over the daemon's event stream, and asks the
// daemon for fixes. The daemon does all the work; this plugin never edits a note itself
// except through the editor (a fix button under a problem).
import { FileSystemAdapter, MarkdownView, Notice, Plugin, TFile, editorInfoField, type WorkspaceLeaf } from "obsidian";
import type { ApiDiagnostic, Severity } from "./api";
import { Connection } from "./connection";
import { DaemonProcess } from "./daemon";
import { discover } from "./discovery";
import { vaultsyncLint } from "./editor";
import {
  type DaemonState,
  DiagnosticsStore,
  type Health,
  buildHealth,
  fixedSummary,
  severitySet,
  startCommand,
  statusText,
  visible,
} from "./model";
import { FixPreviewModal } from "./preview";
import { DEFAULT_SETTINGS, VaultsyncSettingTab, type VaultsyncSettings, mergeSettings } from "./settings";
import { HealthView, VIEW_TYPE, type HealthHost } from "./view";

export const COMMANDS = {
  fixNote: "fix-note",
  fixVault: "fix-vault",
  showProblems: "show-problems",
  rescan: "rescan",
  startDaemon: "start-daemon",
  stopDaemon: "stop-daemon",
} as const;

export default class VaultsyncPlugin extends Plugin implements HealthHost {
  settings: VaultsyncSettings = mergeSettings(DEFAULT_SETTINGS);
  readonly store = new DiagnosticsStore();
  readonly daemon = new DaemonProcess();
  connection: Connection | null = null;
  /** The vault's folder on disk; null where there is none (not a desktop vault). */
  vaultDir: string | null = null;
  private shown: Set<Severity> = severitySet(DEFAULT_SETTINGS.severities);
  private statusEl: HTMLElement | null = null;
  private stopping = false;

  async onload(): Promise<void> {
    this.settings = mergeSettings(await this.loadData());
    this.shown = severitySet(this.settings.severities);
    const adapter = this.app.vault.adapter;
    this.vaultDir = adapter instanceof FileSystemAdapter ? adapter.getBasePath() : null;

    this.registerView(VIEW_TYPE, (leaf) => new HealthView(leaf, this));
    this.registerEditorExtension(
      vaultsyncLint(
        {
          diagnosticsFor: (path) => visible(this.store.note(path), this.shown),
          subscribe: (listener) => this.store.subscribe(listener),
        },
        {
          pathOf: (state) => state.field(editorInfoField, false)?.file?.path ?? null,
          onStaleFix: () =>
            new Notice("vaultsync: this text changed since the problem was found; its fix comes back once the note is saved."),
        },
      ),
    );
    this.statusEl = this.addStatusBarItem();
    this.statusEl.addClass("vaultsync-status");
    this.statusEl.addEventListener("click", () => void this.activateView());
    this.addRibbonIcon("heart-pulse", "Vault health (vaultsync)", () => void this.activateView());
    this.addCommands();
    this.addSettingTab(new VaultsyncSettingTab(this.app, this));

    this.registerEvent(this.app.workspace.on("active-leaf-change", () => this.refresh()));
    this.registerEvent(this.app.workspace.on("file-open", () => this.refresh()));
    this.register(this.store.subscribe(() => this.refresh()));
    if (this.vaultDir !== null) {
      const connection = new Connection({ vaultDir: this.vaultDir, store: this.store });
      this.connection = connection;
      this.register(connection.onState(() => this.refresh()));
      this.register(connection.onWritten(() => this.refresh()));
    }
    this.daemon.onExit = (info) => {
      this.refresh();
      if (this.stopping || info.code === 0 || info.signal === "SIGTERM") return;
      const last = info.stderr.split("\n").pop() ?? "";
      new Notice(`vaultsync watch stopped (exit ${info.code ?? info.signal}): ${last}`, 10_000);
    };
    // Obsidian may quit without unloading plugins: stop our daemon with the window too.
    if (typeof window !== "undefined") this.registerDomEvent(window, "unload", () => this.daemon.stopNow());
    this.app.workspace.onLayoutReady(() => void this.startup());
    this.refresh();
  }

  onunload(): void {
    this.stopping = true;
    this.connection?.stop();
    this.daemon.stopNow(); // only the daemon this plugin started
  }

  async saveSettings(): Promise<void> {
    this.shown = severitySet(this.settings.severities);
    await this.saveData(this.settings);
    this.store.touch();
  }

  private async startup(): Promise<void> {
    if (this.settings.startDaemon && this.vaultDir !== null) {
      const found = await discover(this.vaultDir);
      if (found.kind !== "found") await this.startDaemon(false);
    }
    this.connection?.start();
  }

  private addCommands(): void {
    this.addCommand({
      id: COMMANDS.fixNote,
      name: "Fix this note",
      checkCallback: (checking) => {
        const file = this.app.workspace.getActiveFile();
        if (file === null || file.extension !== "md") return false;
        if (!checking) void this.fixActiveNote();
        return true;
      },
    });
    this.addCommand({
      id: COMMANDS.fixVault,
      name: "Fix the vault (preview first)",
      callback: () => void this.fixVault(),
    });
    this.addCommand({
      id: COMMANDS.showProblems,
      name: "Show vault problems",
      callback: () => void this.activateView().then((view) => view?.revealVault()),
    });
    this.addCommand({
      id: COMMANDS.rescan,
      name: "Rescan the vault",
      callback: () => void this.rescan(),
    });
    this.addCommand({
      id: COMMANDS.startDaemon,
      name: "Start the daemon",
      callback: () => void this.startDaemon(true),
    });
    this.addCommand({
      id: COMMANDS.stopDaemon,
      name: "Stop the daemon",
      callback: () => void this.stopDaemon(),
    });
  }

  // --- state shown ---------------------------------------------------------------------

  /** The daemon's state as shown: a daemon we started that is still indexing is "connecting". */
  private currentState(): { state: DaemonState; detail: string } {
    if (this.connection === null) {
      return { state: "not running", detail: "vaultsync needs a vault on the local disk (desktop Obsidian)" };
    }
    const { state, detail } = this.connection;
    if (state === "not running" && this.daemon.running) {
      return { state: "connecting", detail: "vaultsync watch is starting (indexing the vault)" };
    }
    return { state, detail };
  }

  health(): Health {
    const { state, detail } = this.currentState();
    const file = this.app.workspace.getActiveFile();
    const active = file !== null && file.extension === "md" ? file.path : null;
    return buildHealth(this.store, active, this.shown, state, detail);
  }

  startHint(): string {
    return startCommand(this.settings.command, this.vaultDir ?? "<vault folder>");
  }

  private refresh(): void {
    const { state, detail } = this.currentState();
    if (this.statusEl !== null) {
      const file = this.app.workspace.getActiveFile();
      const count = file !== null && file.extension === "md" ? visible(this.store.note(file.path), this.shown).length : null;
      this.statusEl.setText(statusText(state, count));
      const tip =
        state === "connected"
          ? "vaultsync daemon connected: open the vault health view"
          : `vaultsync daemon ${state}${detail ? ` (${detail})` : ""}. Start it with: ${this.startHint()}`;
      this.statusEl.setAttr("aria-label", tip);
      this.statusEl.setAttr("title", tip);
    }
    for (const leaf of this.app.workspace.getLeavesOfType(VIEW_TYPE)) {
      if (leaf.view instanceof HealthView) leaf.view.requestRender();
    }
  }

  async activateView(): Promise<HealthView | null> {
    const { workspace } = this.app;
    let leaf: WorkspaceLeaf | null = workspace.getLeavesOfType(VIEW_TYPE)[0] ?? null;
    if (leaf === null) {
      leaf = workspace.getRightLeaf(false);
      if (leaf === null) return null;
      await leaf.setViewState({ type: VIEW_TYPE, active: true });
    }
    await workspace.revealLeaf(leaf);
    return leaf.view instanceof HealthView ? leaf.view : null;
  }

  // --- actions -------------------------------------------------------------------------

  /** Run `action`; a failure becomes a notice (its message never holds the token). */
  private async guarded(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      new Notice(`vaultsync: ${(error as Error).message}`, 8000);
    }
  }

  async openProblem(d: ApiDiagnostic): Promise<void> {
    const { workspace, vault } = this.app;
    const file = vault.getAbstractFileByPath(d.path) ?? vault.getAbstractFileByPath(d.path.normalize("NFD"));
    if (!(file instanceof TFile)) {
      new Notice(`vaultsync: ${d.path} is not in the vault any more`);
      return;
    }
    const open = workspace.getLeavesOfType("markdown").find((l) => l.view instanceof MarkdownView && l.view.file?.path === file.path);
    const leaf = open ?? workspace.getLeaf(false);
    await leaf.openFile(file, { active: true, eState: { line: d.range.start.line } });
    workspace.setActiveLeaf(leaf, { focus: true });
    const view = leaf.view;
    if (view instanceof MarkdownView && view.getMode() === "source") {
      // The API's columns are UTF-16 code units, which is what Editor positions count.
      const from = { line: d.range.start.line, ch: d.range.start.character };
      const to = { line: d.range.end.line, ch: d.range.end.character };
      view.editor.setCursor(from);
      view.editor.scrollIntoView({ from, to }, true);
      view.editor.focus();
    }
  }

  async fixActiveNote(): Promise<void> {
    await this.guarded(async () => {
      const file = this.app.workspace.getActiveFile();
      if (file === null || file.extension !== "md") throw new Error("no note is open");
      const client = this.requireConnection().connected();
      // The daemon fixes the note on disk: save what the editor holds first.
      for (const leaf of this.app.workspace.getLeavesOfType("markdown")) {
        if (leaf.view instanceof MarkdownView && leaf.view.file?.path === file.path) await leaf.view.save();
      }
      const out = await client.fix({ paths: [file.path], select: [], dry_run: false });
      const reason = Object.values(out.skipped)[0];
      if (reason !== undefined) new Notice(`vaultsync: not written: ${reason}`, 8000);
      else if (out.changed.length > 0) new Notice(`vaultsync: fixed ${fixedSummary(out.changed[0]?.fixed ?? {})} in ${file.basename}`);
      else new Notice(`vaultsync: nothing in ${file.basename} has a safe fix`);
    });
  }

  async fixVault(): Promise<void> {
    await this.guarded(async () => {
      const client = this.requireConnection().connected();
      await this.saveOpenNotes();
      const preview = await client.fix({ paths: [], select: [], dry_run: true });
      if (preview.changed.length === 0) {
        new Notice("vaultsync: no safe fixes to make in the vault");
        return;
      }
      new FixPreviewModal(this.app, preview, (paths) => void this.applyVaultFix(paths)).open();
    });
  }

  private async applyVaultFix(paths: string[]): Promise<void> {
    await this.guarded(async () => {
      const client = this.requireConnection().connected();
      await this.saveOpenNotes();
      // Only the notes the person saw in the preview.
      const out = await client.fix({ paths, select: [], dry_run: false });
      const skipped = Object.keys(out.skipped).length;
      new Notice(
        `vaultsync: fixed ${out.changed.length} ${out.changed.length === 1 ? "note" : "notes"}` +
          (skipped ? `; ${skipped} not written (changed meanwhile)` : ""),
      );
    });
  }

  private async saveOpenNotes(): Promise<void> {
    for (const leaf of this.app.workspace.getLeavesOfType("markdown")) {
      if (leaf.view instanceof MarkdownView && leaf.view.file !== null) await leaf.view.save();
    }
  }

  async rescan(): Promise<void> {
    await this.guarded(async () => {
      const out = await this.requireConnection().connected().rescan();
      new Notice(`vaultsync: rescanned ${out.notes} notes (${out.changed} changed)`);
    });
  }

  async startDaemon(verbose = true): Promise<void> {
    await this.guarded(async () => {
      const connection = this.requireConnection();
      const dir = this.vaultDir as string;
      const found = await discover(dir);
      if (found.kind === "found") {
        if (verbose) new Notice(`vaultsync: the daemon already runs (pid ${found.endpoint.pid})`);
        connection.retryNow();
        return;
      }
      await this.daemon.start(this.settings.command, dir);
      if (verbose) new Notice("vaultsync: daemon started; it connects once the vault is indexed");
      this.refresh();
      connection.retryNow(); // and its daemon.json is watched for: it connects once listening
    });
  }

  async stopDaemon(): Promise<void> {
    await this.guarded(async () => {
      if (this.daemon.running) {
        await this.daemon.stop();
        new Notice("vaultsync: daemon stopped");
        return;
      }
      const connection = this.requireConnection();
      if (connection.state !== "connected") throw new Error("no daemon is running for this vault");
      // Its pid as the daemon itself reports it (behind the token): never another process.
      const status = await connection.connected().status();
      process.kill(status.pid, "SIGTERM");
      new Notice(`vaultsync: asked the daemon (pid ${status.pid}) to stop`);
    });
  }

  private requireConnection(): Connection {
    if (this.connection === null || this.vaultDir === null) {
      throw new Error("this vault is not on the local disk (vaultsync needs desktop Obsidian)");
    }
    return this.connection;
  }
}
