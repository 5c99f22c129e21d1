import { type App, type Plugin, PluginSettingTab, Setting } from "obsidian";
import type { Severity } from "./api";
import { SEVERITIES } from "./api";

export interface VaultsyncSettings {
  /** The `vaultsync` command: a name on PATH or a full path (a venv's bin/vaultsync). */
  command: string;
  /** Start `vaultsync watch` with Obsidian when no daemon runs for this vault. */
  startDaemon: boolean;
  /** Which severities the view, the status bar and the underlines show. */
  severities: Record<Severity, boolean>;
}

export const DEFAULT_SETTINGS: VaultsyncSettings = {
  command: "vaultsync",
  startDaemon: false,
  severities: { error: true, warning: true, info: true },
};

/** Saved data merged over the defaults; anything of the wrong type is dropped. */
export function mergeSettings(saved: unknown): VaultsyncSettings {
  const data = (typeof saved === "object" && saved !== null ? saved : {}) as Partial<Record<string, unknown>>;
  const severities = { ...DEFAULT_SETTINGS.severities };
  const savedSeverities = data.severities;
  if (typeof savedSeverities === "object" && savedSeverities !== null) {
    for (const s of SEVERITIES) {
      const flag = (savedSeverities as Record<string, unknown>)[s];
      if (typeof flag === "boolean") severities[s] = flag;
    }
  }
  return {
    command: typeof data.command === "string" && data.command.trim() ? data.command.trim() : DEFAULT_SETTINGS.command,
    startDaemon: typeof data.startDaemon === "boolean" ? data.startDaemon : DEFAULT_SETTINGS.startDaemon,
    severities,
  };
}

/** What the settings tab needs of the plugin. */
export interface SettingsHost {
  settings: VaultsyncSettings;
  saveSettings(): Promise<void>;
}

const SEVERITY_NAMES: Record<Severity, string> = {
  error: "Errors",
  warning: "Warnings",
  info: "Infos",
};

export class VaultsyncSettingTab extends PluginSettingTab {
  constructor(
    app: App,
    private readonly host: Plugin & SettingsHost,
  ) {
    super(app, host);
  }

  display(): void {
    const { containerEl } = this;
    containerEl.empty();
    new Setting(containerEl)
      .setName("vaultsync command")
      .setDesc(
        "The vaultsync program: a name on the PATH or a full path, such as /home/me/.venv/bin/vaultsync. " +
          "Apps started from the desktop often have a short PATH, so a full path is safer.",
      )
      .addText((text) =>
        text
          .setPlaceholder(DEFAULT_SETTINGS.command)
          .setValue(this.host.settings.command)
          .onChange(async (value) => {
            this.host.settings.command = value.trim() || DEFAULT_SETTINGS.command;
            await this.host.saveSettings();
          }),
      );
    new Setting(containerEl)
      .setName("Start the daemon with Obsidian")
      .setDesc(
        "When no vaultsync daemon runs for this vault, start `vaultsync watch` when Obsidian opens it " +
          "and stop it when Obsidian closes. Off: start it yourself (or with the command palette).",
      )
      .addToggle((toggle) =>
        toggle.setValue(this.host.settings.startDaemon).onChange(async (value) => {
          this.host.settings.startDaemon = value;
          await this.host.saveSettings();
        }),
      );
    new Setting(containerEl).setName("Problems to show").setHeading();
    for (const severity of SEVERITIES) {
      new Setting(containerEl).setName(SEVERITY_NAMES[severity]).addToggle((toggle) =>
        toggle.setValue(this.host.settings.severities[severity]).onChange(async (value) => {
          this.host.settings.severities[severity] = value;
          await this.host.saveSettings();
        }),
      );
    }
  }
}
