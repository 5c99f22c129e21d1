// The plugin's client against the real daemon: `vaultsync watch` on a copy of seeds/.
// VAULTSYNC_BIN names the vaultsync command (default: the repo's ../.venv/bin/vaultsync).
import { execFile, spawn, type ChildProcess } from "child_process";
import { existsSync, promises as fs } from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { promisify } from "util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDiagnostic } from "../src/api";
import { Connection } from "../src/connection";
import { DaemonProcess } from "../src/daemon";
import { infoPath } from "../src/discovery";
import { DiagnosticsStore, type DaemonState } from "../src/model";
import { tempVault, until } from "./fake-daemon";

const PLUGIN_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const REPO = path.dirname(PLUGIN_DIR);
const VAULTSYNC = process.env.VAULTSYNC_BIN ?? path.join(REPO, ".venv", "bin", "vaultsync");
const EDITS = 20;

const run = promisify(execFile);

interface CheckJson {
  diagnostics: { path: string; line: number; code: string; message: string }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

describe("against the real daemon", () => {
  let vault = "";
  const children: ChildProcess[] = [];
  const store = new DiagnosticsStore();
  let connection: Connection;
  const states: DaemonState[] = [];

  function startWatch(): ChildProcess {
    const child = spawn(VAULTSYNC, ["watch", vault], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    return child;
  }

  async function waitForInfo(pid: number | undefined): Promise<void> {
    await until(async () => {
      try {
        return (JSON.parse(await fs.readFile(infoPath(vault), "utf8")) as { pid: number }).pid === pid;
      } catch {
        return false;
      }
    }, 30_000, 20);
  }

  beforeAll(async () => {
    if (!existsSync(VAULTSYNC)) {
      throw new Error(`${VAULTSYNC} not found: create the repo's venv (see README) or set VAULTSYNC_BIN`);
    }
    vault = path.join(await tempVault(), "seeds");
    await fs.cp(path.join(REPO, "seeds"), vault, { recursive: true });
    const config = path.join(vault, ".vaultsync.toml");
    const text = existsSync(config) ? await fs.readFile(config, "utf8") : "";
    if (!/^\[backlinks\]/m.test(text)) await fs.writeFile(config, `${text}\n[backlinks]\nenabled = true\n`);
    const child = startWatch();
    await waitForInfo(child.pid);
    connection = new Connection({ vaultDir: vault, store, backoffMs: [100, 200, 400, 800] });
    connection.onState((state) => states.push(state));
  }, 60_000);

  afterAll(async () => {
    connection?.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (vault) await fs.rm(path.dirname(vault), { recursive: true, force: true });
  });

  it("receives the vault's problems: the same as `vaultsync check` reports", async () => {
    connection.start();
    await until(() => connection.state === "connected", 15_000);
    const { stdout } = await run(VAULTSYNC, ["check", vault, "--format", "json"]).catch(
      (error: { stdout: string }) => error, // exit 1: the vault has problems
    );
    const expected = (JSON.parse(stdout) as CheckJson).diagnostics.map((d) => `${d.path}|${d.line - 1}|${d.code}|${d.message}`);
    const got = [...store.all()].map((d) => `${d.path}|${d.range.start.line}|${d.code}|${d.message}`);
    expect(got.length).toBeGreaterThan(50);
    expect(got.sort()).toEqual(expected.sort());
  });

  it(`shows an edit on disk within a second (median of ${EDITS} edits)`, async () => {
    const note = path.join(vault, "Opensource AI innovations.md");
    const original = await fs.readFile(note, "utf8");
    const latencies: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const target = `Made up target ${i}`;
      const started = performance.now();
      await fs.writeFile(note, `${original}\nNew line [[${target}]]\n`);
      await until(() => store.note("Opensource AI innovations.md").some((d) => d.message.includes(target)), 5000, 1);
      latencies.push(performance.now() - started);
    }
    const middle = median(latencies);
    console.log(
      `edit on disk -> plugin client over SSE: median ${middle.toFixed(0)} ms of ${EDITS} ` +
        `(min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)}; includes watch.debounce-ms 300)`,
    );
    expect(latencies[0]).toBeLessThan(1000);
    expect(middle).toBeLessThan(1000);
    await fs.writeFile(note, original);
    await until(() => !store.note("Opensource AI innovations.md").some((d) => d.message.includes("Made up target")), 5000);
  });

  it("fixes a note through the API: the note on disk changes as previewed", async () => {
    const fixable = (p: string): ApiDiagnostic[] => store.note(p).filter((d) => d.fix?.applicability === "safe");
    const target = [...store.all()].find((d) => d.fix?.applicability === "safe")?.path;
    expect(target).toBeDefined();
    const notePath = target as string;
    const file = path.join(vault, notePath);
    const before = await fs.readFile(file, "utf8");
    const expectedTexts = fixable(notePath).flatMap((d) => d.fix?.edits.map((e) => e.new_text) ?? []);
    const client = connection.connected();

    const preview = await client.fix({ paths: [notePath], select: [], dry_run: true });
    expect(preview.changed.map((c) => c.path)).toEqual([notePath]);
    expect(await fs.readFile(file, "utf8")).toBe(before); // a preview writes nothing

    const out = await client.fix({ paths: [notePath], select: [], dry_run: false });
    expect(out.skipped).toEqual({});
    expect(out.changed[0]?.diff).toBe(preview.changed[0]?.diff);
    const after = await fs.readFile(file, "utf8");
    expect(after).not.toBe(before);
    for (const text of expectedTexts) expect(after).toContain(text);
    // and the plugin hears of it: that note's safe fixes are gone from its problems
    await until(() => fixable(notePath).length === 0, 5000);
  });

  it("turns 'reconnecting' when the daemon is killed, and 'connected' once it runs again", async () => {
    states.length = 0;
    const running = children.at(-1) as ChildProcess;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
    await until(() => connection.state !== "connected", 5000);
    expect(states[0]).toBe("reconnecting");
    const started = performance.now();
    const child = startWatch();
    await until(() => connection.state === "connected", 30_000);
    console.log(`restart -> connected again in ${(performance.now() - started).toFixed(0)} ms; states: ${states.join(" -> ")}`);
    expect(states.at(-1)).toBe("connected");
    // the new daemon's events reach the client
    const note = path.join(vault, "Opensource AI innovations.md");
    await fs.appendFile(note, "\nAfter the restart [[Another made up target]]\n");
    await until(() => store.note("Opensource AI innovations.md").some((d) => d.message.includes("Another made up target")), 5000);
    child.kill("SIGTERM");
    await until(() => child.exitCode !== null, 15_000);
    expect(child.exitCode).toBe(0);
    await until(() => connection.state === "not running", 10_000);
  });

  it("starts `vaultsync watch` itself and stops it again (the plugin's own daemon)", async () => {
    const daemon = new DaemonProcess();
    const exits: (number | null)[] = [];
    daemon.onExit = (info) => exits.push(info.code);
    await daemon.start(VAULTSYNC, vault);
    expect(daemon.running).toBe(true);
    await until(() => connection.state === "connected", 30_000);
    expect(connection.client?.endpoint.pid).toBe(daemon.pid);
    await daemon.stop();
    expect(exits).toEqual([0]);
    expect(daemon.running).toBe(false);
    expect(existsSync(infoPath(vault))).toBe(false); // a clean stop removes daemon.json
    await until(() => connection.state === "not running", 10_000);
  });

  it("says why a command cannot be started", async () => {
    const daemon = new DaemonProcess();
    await expect(daemon.start(path.join(vault, "no-such-vaultsync"), vault)).rejects.toThrow(/not found/);
    expect(daemon.running).toBe(false);
  });
});
