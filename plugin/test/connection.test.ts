import { promises as fs } from "fs";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { Connection } from "../src/connection";
import { DiagnosticsStore, type DaemonState } from "../src/model";
import { FakeDaemon, diagnostic, tempVault, until } from "./fake-daemon";

const FAST = [40, 80, 160];

describe("Connection", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: { backoffMs?: number[]; pollMs?: number } = {}) {
    const dir = await tempVault();
    const daemon = await new FakeDaemon().listen();
    const store = new DiagnosticsStore();
    const connection = new Connection({
      vaultDir: dir,
      store,
      backoffMs: options.backoffMs ?? FAST,
      pollMs: options.pollMs ?? 20,
    });
    const states: DaemonState[] = [];
    connection.onState((state) => states.push(state));
    cleanup.push(
      () => connection.stop(),
      () => daemon.close(),
    );
    return { dir, daemon, store, connection, states };
  }

  it("takes the snapshot, then follows diagnostics events", async () => {
    const { dir, daemon, store, connection } = await setup();
    daemon.diagnostics = [diagnostic({ path: "a.md" }), diagnostic({ path: "b.md" })];
    await daemon.advertise(dir);
    connection.start();
    await until(() => connection.state === "connected");
    expect(store.size).toBe(2);
    daemon.emit("diagnostics", { path: "a.md", diagnostics: [] });
    daemon.emit("diagnostics", { path: "c.md", diagnostics: [diagnostic({ path: "c.md" }), diagnostic({ path: "c.md" })] });
    await until(() => store.note("c.md").length === 2);
    expect(store.note("a.md")).toEqual([]);
    expect(store.size).toBe(3);
    expect(daemon.count("/v1/events")).toBe(1);
    expect(daemon.count("/v1/diagnostics")).toBe(1);
  });

  it("applies events that arrive during the snapshot after it, so they are not lost", async () => {
    const { dir, daemon, store, connection } = await setup();
    daemon.diagnostics = [diagnostic({ path: "a.md", message: "old" })];
    daemon.snapshotDelayMs = 200;
    await daemon.advertise(dir);
    connection.start();
    await until(() => daemon.openStreams === 1 && daemon.count("/v1/diagnostics") === 1);
    daemon.emit("diagnostics", { path: "a.md", diagnostics: [diagnostic({ path: "a.md", message: "new" })] });
    await until(() => connection.state === "connected");
    expect(store.note("a.md").map((d) => d.message)).toEqual(["new"]);
  });

  it("is 'not running' without daemon.json, and connects as soon as one appears", async () => {
    const { dir, daemon, connection, states } = await setup({ backoffMs: [60_000] });
    connection.start();
    await until(() => connection.state === "not running");
    expect(connection.detail).toContain("daemon.json");
    await daemon.advertise(dir); // far sooner than the 60 s back-off step
    await until(() => connection.state === "connected", 2000);
    expect(states).toEqual(["not running", "connected"]);
  });

  it("says 'not running' for a daemon.json whose process is gone", async () => {
    const { dir, daemon, connection } = await setup();
    await daemon.advertise(dir, 2 ** 22 + 12345); // above Linux's pid_max default: no such process
    connection.start();
    await until(() => connection.state === "not running");
    expect(connection.detail).toMatch(/process \d+ is gone/);
  });

  it("reconnects after the daemon drops, and takes a fresh snapshot", async () => {
    const { dir, daemon, store, connection, states } = await setup();
    daemon.diagnostics = [diagnostic()];
    await daemon.advertise(dir);
    connection.start();
    await until(() => connection.state === "connected");
    daemon.diagnostics = [];
    daemon.dropConnections();
    await until(() => states.includes("reconnecting"));
    await until(() => connection.state === "connected" && states.length === 3);
    expect(states).toEqual(["connected", "reconnecting", "connected"]);
    expect(store.size).toBe(0);
    expect(daemon.count("/v1/diagnostics")).toBe(2);
  });

  it("makes at most one try per back-off step while the daemon refuses", async () => {
    const { dir, daemon, connection } = await setup({ backoffMs: [100, 200, 400] });
    await daemon.advertise(dir);
    daemon.failWith = 500;
    connection.start();
    await new Promise((r) => setTimeout(r, 1000));
    // Tries start at 0, 100, 300, 700 ms (then 1100): four in the first second.
    const tries = daemon.count("/v1/events");
    expect(tries).toBeGreaterThanOrEqual(3);
    expect(tries).toBeLessThanOrEqual(4);
    expect(daemon.requests.length).toBe(tries); // nothing else is asked meanwhile
    // Its process lives (daemon.json names it): it may be starting or busy.
    expect(connection.state).toBe("reconnecting");
    daemon.failWith = null;
    connection.retryNow();
    await until(() => connection.state === "connected");
  });

  it("makes no requests at all while no daemon is advertised", async () => {
    const { daemon, connection } = await setup({ backoffMs: [10] });
    connection.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(daemon.requests).toEqual([]);
    expect(connection.tries).toBeGreaterThan(5); // it did look at the file, cheaply
  });

  it("stop() ends the stream and every timer", async () => {
    const { dir, daemon, connection } = await setup();
    await daemon.advertise(dir);
    connection.start();
    await until(() => connection.state === "connected");
    connection.stop();
    await until(() => daemon.openStreams === 0);
    const before = daemon.requests.length;
    await fs.rm(path.join(dir, ".vaultsync"), { recursive: true });
    await daemon.advertise(dir);
    await new Promise((r) => setTimeout(r, 200));
    expect(daemon.requests.length).toBe(before);
  });
});
