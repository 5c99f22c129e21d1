// A small stand-in for the parts of the `obsidian` module the plugin uses (the npm package
// ships types only). Each class implements the real types' members it stands in for, so a
// change of the API the plugin relies on fails `tsc` here. Tests reach the recorded calls
// (commands, views, notices) through the extra public fields.
import { type Extension, StateField } from "@codemirror/state";
import type * as O from "obsidian";

type Listener = (...args: unknown[]) => unknown;

class StubEventRef {
  constructor(readonly detach: () => void) {}
}

export class Events {
  private handlers = new Map<string, Listener[]>();

  on(name: string, callback: Listener): O.EventRef {
    const list = this.handlers.get(name) ?? [];
    list.push(callback);
    this.handlers.set(name, list);
    return new StubEventRef(() => {
      this.handlers.set(
        name,
        (this.handlers.get(name) ?? []).filter((c) => c !== callback),
      );
    }) as unknown as O.EventRef;
  }

  trigger(name: string, ...args: unknown[]): void {
    for (const callback of this.handlers.get(name) ?? []) callback(...args);
  }
}

/** Obsidian's DOM helpers on HTMLElement (only when a DOM exists, e.g. happy-dom). */
export function installDomHelpers(): void {
  if (typeof HTMLElement === "undefined" || "createEl" in HTMLElement.prototype) return;
  type Info = { cls?: string | string[]; text?: string; attr?: Record<string, string> };
  const proto = HTMLElement.prototype as unknown as Record<string, unknown>;
  function createEl(this: HTMLElement, tag: string, info?: Info | string, callback?: (el: HTMLElement) => void): HTMLElement {
    const el = document.createElement(tag);
    const o: Info = typeof info === "string" ? { text: info } : (info ?? {});
    if (o.cls) el.className = Array.isArray(o.cls) ? o.cls.join(" ") : o.cls;
    if (o.text !== undefined) el.textContent = o.text;
    for (const [k, v] of Object.entries(o.attr ?? {})) el.setAttribute(k, v);
    this.appendChild(el);
    callback?.(el);
    return el;
  }
  proto.createEl = createEl;
  proto.createDiv = function (this: HTMLElement, info?: Info | string) {
    return createEl.call(this, "div", info);
  };
  proto.createSpan = function (this: HTMLElement, info?: Info | string) {
    return createEl.call(this, "span", info);
  };
  proto.empty = function (this: HTMLElement) {
    this.replaceChildren();
  };
  proto.setText = function (this: HTMLElement, text: string) {
    this.textContent = text;
  };
  proto.appendText = function (this: HTMLElement, text: string) {
    this.append(text);
  };
  proto.setAttr = function (this: HTMLElement, name: string, value: string) {
    this.setAttribute(name, value);
  };
  proto.addClass = function (this: HTMLElement, ...classes: string[]) {
    this.classList.add(...classes);
  };
}
installDomHelpers();

/** An element for Node without a DOM: records text, attributes and click listeners. */
export class StubElement {
  text = "";
  readonly attrs: Record<string, string> = {};
  readonly classes = new Set<string>();
  private listeners = new Map<string, Listener[]>();

  setText(text: string): void {
    this.text = text;
  }
  setAttr(name: string, value: string): void {
    this.attrs[name] = value;
  }
  addClass(...names: string[]): void {
    for (const n of names) this.classes.add(n);
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }
  click(): void {
    for (const l of this.listeners.get("click") ?? []) l();
  }
}

function element(): HTMLElement {
  return (typeof document !== "undefined" ? document.createElement("div") : new StubElement()) as unknown as HTMLElement;
}

export class TFile implements Pick<O.TFile, "path" | "name" | "basename" | "extension"> {
  name: string;
  basename: string;
  extension: string;

  constructor(public path: string) {
    this.name = path.split("/").pop() ?? path;
    const dot = this.name.lastIndexOf(".");
    this.basename = dot > 0 ? this.name.slice(0, dot) : this.name;
    this.extension = dot > 0 ? this.name.slice(dot + 1) : "";
  }
}

export class FileSystemAdapter implements Pick<O.FileSystemAdapter, "getBasePath"> {
  constructor(private readonly base: string) {}
  getBasePath(): string {
    return this.base;
  }
}

export class Notice implements Pick<O.Notice, "hide"> {
  static readonly messages: string[] = [];
  constructor(message: string | DocumentFragment, _duration?: number) {
    Notice.messages.push(String(message));
  }
  hide(): void {}
}

export class Component
  implements Pick<O.Component, "load" | "onload" | "unload" | "onunload" | "register" | "registerEvent">
{
  private cleanups: (() => unknown)[] = [];

  load(): void {
    this.onload();
  }
  onload(): void {}
  unload(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.onunload();
  }
  onunload(): void {}
  register(cb: () => unknown): void {
    this.cleanups.push(cb);
  }
  registerEvent(ref: O.EventRef): void {
    this.cleanups.push(() => (ref as unknown as StubEventRef).detach());
  }
  registerDomEvent(el: Window | Document | HTMLElement, type: string, callback: (ev: Event) => unknown): void {
    el.addEventListener(type, callback);
    this.register(() => el.removeEventListener(type, callback));
  }
}

export class View extends Component implements Pick<O.View, "leaf" | "containerEl"> {
  containerEl: HTMLElement = element();
  constructor(public leaf: O.WorkspaceLeaf) {
    super();
  }
}

export class ItemView extends View implements Pick<O.ItemView, "contentEl"> {
  contentEl: HTMLElement = element();
  async onOpen(): Promise<void> {}
  async onClose(): Promise<void> {}
}

export class StubEditor implements Pick<O.Editor, "setCursor" | "scrollIntoView" | "focus"> {
  cursor: O.EditorPosition | null = null;
  setCursor(pos: O.EditorPosition | number, ch?: number): void {
    this.cursor = typeof pos === "number" ? { line: pos, ch: ch ?? 0 } : pos;
  }
  scrollIntoView(): void {}
  focus(): void {}
}

export class MarkdownView extends ItemView implements Pick<O.MarkdownView, "file" | "getMode" | "save"> {
  file: O.TFile | null = null;
  mode: O.MarkdownViewModeType = "source";
  editor = new StubEditor() as unknown as O.Editor;
  saves = 0;
  getMode(): O.MarkdownViewModeType {
    return this.mode;
  }
  async save(): Promise<void> {
    this.saves += 1;
  }
}

export class WorkspaceLeaf implements Pick<O.WorkspaceLeaf, "view" | "setViewState" | "openFile"> {
  view: O.View = null as unknown as O.View;
  constructor(private readonly stubApp: StubApp) {}

  async setViewState(state: O.ViewState): Promise<void> {
    const create = this.stubApp.viewRegistry.get(state.type);
    if (create === undefined) throw new Error(`no view type ${state.type}`);
    const view = create(this as unknown as O.WorkspaceLeaf) as unknown as ItemView;
    this.view = view as unknown as O.View;
    this.stubApp.workspace.leaves.push(this);
    await view.onOpen();
  }

  async openFile(file: O.TFile): Promise<void> {
    const view = new MarkdownView(this as unknown as O.WorkspaceLeaf);
    view.file = file;
    this.view = view as unknown as O.View;
    this.stubApp.workspace.activeFile = file;
  }
}

export class Workspace
  extends Events
  implements
    Pick<
      O.Workspace,
      "getActiveFile" | "getLeavesOfType" | "onLayoutReady" | "getRightLeaf" | "revealLeaf" | "getLeaf" | "setActiveLeaf"
    >
{
  activeFile: O.TFile | null = null;
  leaves: WorkspaceLeaf[] = [];
  layoutReady: (() => unknown)[] = [];

  constructor(private readonly stubApp: StubApp) {
    super();
  }
  getActiveFile(): O.TFile | null {
    return this.activeFile;
  }
  getLeavesOfType(type: string): O.WorkspaceLeaf[] {
    return this.leaves.filter((l) => {
      const view = l.view as unknown as { getViewType?: () => string } | null;
      const kind = view instanceof MarkdownView ? "markdown" : view?.getViewType?.();
      return kind === type;
    }) as unknown as O.WorkspaceLeaf[];
  }
  onLayoutReady(callback: () => unknown): void {
    this.layoutReady.push(callback);
  }
  getRightLeaf(): O.WorkspaceLeaf {
    return new WorkspaceLeaf(this.stubApp) as unknown as O.WorkspaceLeaf;
  }
  getLeaf(): O.WorkspaceLeaf {
    const leaf = new WorkspaceLeaf(this.stubApp);
    this.leaves.push(leaf);
    return leaf as unknown as O.WorkspaceLeaf;
  }
  async revealLeaf(): Promise<void> {}
  setActiveLeaf(): void {}
}

export class Vault implements Pick<O.Vault, "adapter" | "getAbstractFileByPath"> {
  readonly files = new Map<string, TFile>();
  constructor(public adapter: O.DataAdapter) {}
  getAbstractFileByPath(path: string): O.TAbstractFile | null {
    return (this.files.get(path) ?? null) as unknown as O.TAbstractFile | null;
  }
}

export interface StubApp {
  vault: Vault;
  workspace: Workspace;
  viewRegistry: Map<string, O.ViewCreator>;
}

/** An App over a vault folder on disk (`base`). */
export function createApp(base: string): { app: O.App; stub: StubApp } {
  const stub = { viewRegistry: new Map<string, O.ViewCreator>() } as StubApp;
  stub.vault = new Vault(new FileSystemAdapter(base) as unknown as O.DataAdapter);
  stub.workspace = new Workspace(stub);
  return { app: stub as unknown as O.App, stub };
}

export class Plugin
  extends Component
  implements
    Pick<
      O.Plugin,
      | "app"
      | "manifest"
      | "addCommand"
      | "registerView"
      | "registerEditorExtension"
      | "addStatusBarItem"
      | "addRibbonIcon"
      | "addSettingTab"
      | "loadData"
      | "saveData"
    >
{
  readonly commands: O.Command[] = [];
  readonly views: string[] = [];
  readonly editorExtensions: Extension[] = [];
  readonly statusBar: HTMLElement[] = [];
  readonly settingTabs: O.PluginSettingTab[] = [];
  data: unknown = null;

  constructor(
    public app: O.App,
    public manifest: O.PluginManifest,
  ) {
    super();
  }
  addCommand(command: O.Command): O.Command {
    this.commands.push(command);
    return command;
  }
  registerView(type: string, viewCreator: O.ViewCreator): void {
    this.views.push(type);
    (this.app as unknown as StubApp).viewRegistry.set(type, viewCreator);
  }
  registerEditorExtension(extension: Extension): void {
    this.editorExtensions.push(extension);
  }
  addStatusBarItem(): HTMLElement {
    const el = element();
    this.statusBar.push(el);
    return el;
  }
  addRibbonIcon(): HTMLElement {
    return element();
  }
  addSettingTab(tab: O.PluginSettingTab): void {
    this.settingTabs.push(tab);
  }
  async loadData(): Promise<unknown> {
    return this.data;
  }
  async saveData(data: unknown): Promise<void> {
    this.data = JSON.parse(JSON.stringify(data));
  }
}

// Chainable members return the real class, which a stand-in cannot be; their parameters
// are typed from the real ones instead.
export class Modal implements Pick<O.Modal, "app" | "contentEl" | "open" | "close"> {
  static opened: Modal[] = [];
  contentEl: HTMLElement = element();
  title = "";
  constructor(public app: O.App) {}
  open(): void {
    Modal.opened.push(this);
    this.onOpen();
  }
  close(): void {
    this.onClose();
  }
  setTitle(title: Parameters<O.Modal["setTitle"]>[0]): this {
    this.title = title;
    return this;
  }
  onOpen(): void {}
  onClose(): void {}
}

export class PluginSettingTab implements Pick<O.PluginSettingTab, "app" | "containerEl"> {
  containerEl: HTMLElement = element();
  constructor(
    public app: O.App,
    public plugin: O.Plugin,
  ) {}
}

class ValueComponent<T> {
  value!: T;
  change: ((value: T) => unknown) | null = null;
  setValue(value: T): this {
    this.value = value;
    return this;
  }
  setPlaceholder(): this {
    return this;
  }
  onChange(callback: (value: T) => unknown): this {
    this.change = callback;
    return this;
  }
}

export class Setting {
  static created: Setting[] = [];
  name = "";
  controls: ValueComponent<unknown>[] = [];
  constructor(_containerEl: HTMLElement) {
    Setting.created.push(this);
  }
  setName(name: Parameters<O.Setting["setName"]>[0]): this {
    this.name = String(name);
    return this;
  }
  setDesc(_desc: Parameters<O.Setting["setDesc"]>[0]): this {
    return this;
  }
  setHeading(): this {
    return this;
  }
  addText(build: Parameters<O.Setting["addText"]>[0]): this {
    const c = new ValueComponent<string>();
    this.controls.push(c as ValueComponent<unknown>);
    build(c as unknown as O.TextComponent);
    return this;
  }
  addToggle(build: Parameters<O.Setting["addToggle"]>[0]): this {
    const c = new ValueComponent<boolean>();
    this.controls.push(c as ValueComponent<unknown>);
    build(c as unknown as O.ToggleComponent);
    return this;
  }
}

export const editorInfoField: typeof O.editorInfoField = StateField.define<O.MarkdownFileInfo>({
  create: () => null as unknown as O.MarkdownFileInfo,
  update: (value) => value,
});
