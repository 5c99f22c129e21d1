// The "Vault health" side view: the active note's problems and the whole vault's, grouped
// by rule with counts; a click opens the note at the problem's line and column.
import { ItemView, type WorkspaceLeaf } from "obsidian";
import type { ApiDiagnostic } from "./api";
import { type Health, type RuleGroup, type Section, place, stateLabel } from "./model";

export const VIEW_TYPE = "vaultsync-health";

/** Items rendered per group before a "show more" row (a vault can have thousands). */
export const GROUP_PAGE = 100;

export interface HealthHost {
  health(): Health;
  /** The command a person runs to start the daemon on this vault. */
  startHint(): string;
  openProblem(diagnostic: ApiDiagnostic): Promise<void>;
  startDaemon(): Promise<void>;
  fixActiveNote(): Promise<void>;
  fixVault(): Promise<void>;
}

export class HealthView extends ItemView {
  /** Groups the person opened, kept across re-renders ("note:L002", "vault:L001"). */
  private readonly open = new Set<string>();
  private readonly shown = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    leaf: WorkspaceLeaf,
    private readonly host: HealthHost,
  ) {
    super(leaf);
  }

  getViewType(): string {
    return VIEW_TYPE;
  }

  getDisplayText(): string {
    return "Vault health";
  }

  getIcon(): string {
    return "heart-pulse";
  }

  async onOpen(): Promise<void> {
    this.render();
  }

  async onClose(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Re-render soon: many events in a burst (a rescan) cost one render. */
  requestRender(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.render();
    }, 100);
  }

  /** Scroll to the vault's section (the "show vault problems" command). */
  revealVault(): void {
    this.render();
    this.contentEl.querySelector(".vaultsync-vault")?.scrollIntoView({ block: "start" });
  }

  render(): void {
    const health = this.host.health();
    const root = this.contentEl;
    const scroll = root.scrollTop;
    root.empty();
    root.addClass("vaultsync-health");
    this.renderState(root, health);
    const noteBox = root.createDiv({ cls: "vaultsync-note" });
    if (health.activePath === null || health.note === null) {
      noteBox.createEl("h4", { text: "This note" });
      noteBox.createDiv({ cls: "vaultsync-empty", text: "No note is open." });
    } else {
      const head = noteBox.createEl("h4", { text: `This note: ${countText(health.note.count)}` });
      head.setAttr("title", health.activePath);
      if (health.note.count > 0 && health.state === "connected") {
        const fix = noteBox.createEl("button", { text: "Fix this note", cls: "vaultsync-fix-note" });
        fix.addEventListener("click", () => void this.host.fixActiveNote());
      }
      this.renderSection(noteBox, health.note, "note", false);
    }
    const vaultBox = root.createDiv({ cls: "vaultsync-vault" });
    vaultBox.createEl("h4", {
      text: `Vault: ${countText(health.vault.count)}${health.vault.notes ? ` in ${health.vault.notes} notes` : ""}`,
    });
    if (health.vault.count > 0 && health.state === "connected") {
      const fix = vaultBox.createEl("button", { text: "Fix the vault…", cls: "vaultsync-fix-vault" });
      fix.addEventListener("click", () => void this.host.fixVault());
    }
    this.renderSection(vaultBox, health.vault, "vault", true);
    root.scrollTop = scroll;
  }

  private renderState(root: HTMLElement, health: Health): void {
    const box = root.createDiv({ cls: `vaultsync-state vaultsync-state-${health.state.replace(" ", "-")}` });
    box.createSpan({ cls: "vaultsync-dot" });
    box.createSpan({ text: `Daemon ${stateLabel(health.state)}` });
    if (health.state === "not running" || health.state === "reconnecting") {
      if (health.detail) box.createDiv({ cls: "vaultsync-detail", text: health.detail });
      const hint = box.createDiv({ cls: "vaultsync-detail" });
      hint.appendText("Start it in a terminal: ");
      hint.createEl("code", { text: this.host.startHint() });
      const start = box.createEl("button", { text: "Start the daemon" });
      start.addEventListener("click", () => void this.host.startDaemon());
    }
  }

  private renderSection(parent: HTMLElement, section: Section, scope: string, withPath: boolean): void {
    if (section.count === 0) {
      parent.createDiv({ cls: "vaultsync-empty", text: "No problems." });
      return;
    }
    for (const group of section.groups) {
      const key = `${scope}:${group.code}`;
      const details = parent.createEl("details", { cls: `vaultsync-group vaultsync-${group.severity}` });
      const summary = details.createEl("summary");
      summary.createSpan({ cls: "vaultsync-code", text: group.code });
      summary.createSpan({ cls: "vaultsync-rule", text: ` ${group.rule}` });
      summary.createSpan({ cls: "vaultsync-count", text: String(group.count) });
      if (this.open.has(key)) {
        details.open = true;
        this.renderItems(details, group, key, withPath);
      }
      details.addEventListener("toggle", () => {
        if (details.open && !this.open.has(key)) {
          this.open.add(key);
          this.renderItems(details, group, key, withPath);
        } else if (!details.open) {
          this.open.delete(key);
          details.querySelector(".vaultsync-items")?.remove();
        }
      });
    }
  }

  /** A group's problems, rendered only once it is opened. */
  private renderItems(details: HTMLElement, group: RuleGroup, key: string, withPath: boolean): void {
    details.querySelector(".vaultsync-items")?.remove();
    const list = details.createEl("ul", { cls: "vaultsync-items" });
    const limit = this.shown.get(key) ?? GROUP_PAGE;
    for (const d of group.items.slice(0, limit)) {
      const item = list.createEl("li", { cls: `vaultsync-item vaultsync-${d.severity}` });
      const where = withPath ? `${d.path} ${place(d)}` : place(d);
      item.createSpan({ cls: "vaultsync-place", text: where });
      item.createSpan({ cls: "vaultsync-message", text: d.message });
      item.setAttr("title", `${d.code} ${d.rule}: ${d.message}`);
      item.addEventListener("click", () => void this.host.openProblem(d));
    }
    if (group.items.length > limit) {
      const more = list.createEl("li", {
        cls: "vaultsync-more",
        text: `Show ${Math.min(GROUP_PAGE, group.items.length - limit)} more of ${group.items.length - limit}…`,
      });
      more.addEventListener("click", () => {
        this.shown.set(key, limit + GROUP_PAGE);
        this.renderItems(details, group, key, withPath);
      });
    }
  }
}

function countText(count: number): string {
  return count === 0 ? "no problems" : count === 1 ? "1 problem" : `${count} problems`;
}
