// Finding the daemon of a vault: `.vaultsync/daemon.json` (pid, port) and `.vaultsync/token`,
// both written by `vaultsync watch` in the vault's folder and removed when it stops.
import { promises as fs } from "fs";
import * as path from "path";

export const STATE_DIR = ".vaultsync";
export const INFO_FILE = "daemon.json";
export const TOKEN_FILE = "token";

/** Where a running daemon listens, and the credential to talk to it. */
export class Endpoint {
  // A private field: the token never shows in JSON.stringify, console.log or an error.
  readonly #token: string;

  constructor(
    readonly pid: number,
    readonly port: number,
    readonly vault: string,
    readonly version: string,
    token: string,
  ) {
    this.#token = token;
  }

  authorization(): string {
    return `Bearer ${this.#token}`;
  }

  /** Same daemon (a restart gets a new port or pid, and a new token). */
  same(other: Endpoint | null): boolean {
    return other !== null && other.pid === this.pid && other.port === this.port && other.#token === this.#token;
  }

  toJSON(): object {
    return { pid: this.pid, port: this.port, vault: this.vault, version: this.version };
  }
}

export type Discovery =
  | { kind: "found"; endpoint: Endpoint }
  | { kind: "absent" } // no daemon.json: nothing runs (or it has not listened yet)
  | { kind: "stale"; pid: number } // daemon.json left by a daemon that is gone (killed)
  | { kind: "unreadable"; reason: string };

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function infoPath(vaultDir: string): string {
  return path.join(vaultDir, STATE_DIR, INFO_FILE);
}

/** Read the daemon's files in `vaultDir`; never throws. */
export async function discover(
  vaultDir: string,
  alive: (pid: number) => boolean = processAlive,
): Promise<Discovery> {
  let raw: string;
  try {
    raw = await fs.readFile(infoPath(vaultDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    return { kind: "unreadable", reason: `${STATE_DIR}/${INFO_FILE}: ${(error as Error).message}` };
  }
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    // Written through a rename, so a half file is not expected; treat it as not there yet.
    return { kind: "unreadable", reason: `${STATE_DIR}/${INFO_FILE} is not JSON` };
  }
  const record = (typeof info === "object" && info !== null ? info : {}) as Record<string, unknown>;
  const { pid, port } = record;
  if (typeof pid !== "number" || typeof port !== "number") {
    return { kind: "unreadable", reason: `${STATE_DIR}/${INFO_FILE} has no pid and port` };
  }
  if (!alive(pid)) return { kind: "stale", pid };
  let token: string;
  try {
    token = (await fs.readFile(path.join(vaultDir, STATE_DIR, TOKEN_FILE), "utf8")).trim();
  } catch (error) {
    return { kind: "unreadable", reason: `${STATE_DIR}/${TOKEN_FILE}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}` };
  }
  if (!token) return { kind: "unreadable", reason: `${STATE_DIR}/${TOKEN_FILE} is empty` };
  const vault = typeof record.vault === "string" ? record.vault : vaultDir;
  const version = typeof record.version === "string" ? record.version : "?";
  return { kind: "found", endpoint: new Endpoint(pid, port, vault, version, token) };
}

/** A cheap fingerprint of daemon.json (a stat, no request): changes when a daemon starts. */
export async function infoStamp(vaultDir: string): Promise<string> {
  try {
    const stat = await fs.stat(infoPath(vaultDir));
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return "absent";
  }
}
