// A `vaultsync watch` process the plugin started itself (desktop only). Only this process
// is ever stopped on unload; a daemon someone started in a terminal is left alone.
import { spawn, type ChildProcess } from "child_process";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of what it printed on stderr (the daemon never prints its token). */
  stderr: string;
}

const STDERR_KEEP = 4000;

export class DaemonProcess {
  private child: ChildProcess | null = null;
  private stderr = "";
  private exited: Promise<ExitInfo> | null = null;
  onExit: ((info: ExitInfo) => void) | null = null;

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Spawn `command watch vaultDir`; resolves once the process exists, rejects if it
   * cannot be started (e.g. the command is not found). */
  start(command: string, vaultDir: string): Promise<void> {
    if (this.child !== null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const child = spawn(command, ["watch", vaultDir], {
        cwd: vaultDir,
        stdio: ["ignore", "ignore", "pipe"],
        windowsHide: true,
      });
      this.stderr = "";
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => {
        this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
      });
      this.exited = new Promise<ExitInfo>((done) => {
        child.once("exit", (code, signal) => {
          // stderr may still hold a last chunk: 'close' comes after both.
          child.once("close", () => done({ code, signal, stderr: this.stderr.trim() }));
        });
      });
      child.once("spawn", () => {
        this.child = child;
        void this.exited?.then((info) => {
          if (this.child === child) this.child = null;
          this.onExit?.(info);
        });
        resolve();
      });
      // `on`, not `once`: an 'error' event without a listener would throw in Obsidian.
      child.on("error", (error: NodeJS.ErrnoException) => {
        if (this.child === child) return; // a failed kill(): the exit handler reports
        reject(
          new Error(
            error.code === "ENOENT"
              ? `cannot start "${command}": not found (set the full path of vaultsync in the plugin's settings)`
              : `cannot start "${command}": ${error.message}`,
          ),
        );
      });
    });
  }

  /** SIGTERM (the daemon finishes the batch in flight), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (child === null || exited === null) return;
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | null = null;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, timeoutMs);
    });
    await Promise.race([exited, late]);
    if (timer !== null) clearTimeout(timer);
    await exited;
  }

  /** For Obsidian closing: ask it to stop, without waiting. */
  stopNow(): void {
    this.child?.kill("SIGTERM");
  }
}
