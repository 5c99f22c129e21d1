// "Fix the vault": the dry run's changes, note by note as diffs, applied only on confirm.
import { type App, Modal } from "obsidian";
import type { FixOut } from "./api";
import { fixedSummary } from "./model";

/** Diff lines shown per note; the rest is summed up in one line. */
export const DIFF_LINES = 400;

export class FixPreviewModal extends Modal {
  constructor(
    app: App,
    private readonly preview: FixOut,
    private readonly onApply: (paths: string[]) => void,
  ) {
    super(app);
  }

  onOpen(): void {
    const { contentEl } = this;
    const changed = this.preview.changed;
    this.setTitle(`Fix the vault: ${changed.length} ${changed.length === 1 ? "note changes" : "notes change"}`);
    contentEl.addClass("vaultsync-preview");
    const fixed: Record<string, number> = {};
    for (const change of changed) {
      for (const [code, n] of Object.entries(change.fixed)) fixed[code] = (fixed[code] ?? 0) + n;
    }
    contentEl.createEl("p", {
      text: `Safe fixes: ${fixedSummary(fixed)}. Nothing is written until you apply.`,
    });
    const skipped = Object.entries(this.preview.skipped);
    if (skipped.length > 0) {
      const box = contentEl.createEl("details", { cls: "vaultsync-skipped" });
      box.createEl("summary", { text: `${skipped.length} notes will not be written` });
      const list = box.createEl("ul");
      for (const [, why] of skipped) list.createEl("li", { text: why });
    }
    for (const change of changed) {
      const box = contentEl.createEl("details", { cls: "vaultsync-change" });
      box.open = changed.length <= 5;
      const summary = box.createEl("summary");
      summary.createSpan({ cls: "vaultsync-path", text: change.path });
      summary.createSpan({ cls: "vaultsync-fixed", text: ` ${fixedSummary(change.fixed)}` });
      const pre = box.createEl("pre", { cls: "vaultsync-diff" });
      const lines = change.diff.split("\n");
      for (const line of lines.slice(0, DIFF_LINES)) {
        const cls = line.startsWith("+") && !line.startsWith("+++")
          ? "vaultsync-add"
          : line.startsWith("-") && !line.startsWith("---")
            ? "vaultsync-del"
            : line.startsWith("@@")
              ? "vaultsync-hunk"
              : "vaultsync-ctx";
        pre.createDiv({ cls, text: line || " " });
      }
      if (lines.length > DIFF_LINES) pre.createDiv({ cls: "vaultsync-hunk", text: `… ${lines.length - DIFF_LINES} more lines` });
    }
    const buttons = contentEl.createDiv({ cls: "modal-button-container" });
    const apply = buttons.createEl("button", { text: `Apply to ${changed.length} notes`, cls: "mod-cta" });
    apply.addEventListener("click", () => {
      this.close();
      this.onApply(changed.map((c) => c.path));
    });
    const cancel = buttons.createEl("button", { text: "Cancel" });
    cancel.addEventListener("click", () => this.close());
  }

  onClose(): void {
    this.contentEl.empty();
  }
}
