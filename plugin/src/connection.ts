// Staying connected to the vault's daemon: find it, subscribe to its events, take a
// snapshot of all diagnostics, and when it goes away try again with back-off.
//
// No request storm: each try is one event-stream request (plus one snapshot request once
// that stream is open), and tries are spaced by the back-off steps. Between tries only
// daemon.json is stat'ed (a local file, not a request), so a daemon started meanwhile is
// found within `pollMs` instead of at the end of a long back-off step.
import type { ApiDiagnostic, DiagnosticsEvent, WrittenEvent } from "./api";
import { ApiClient, type ClientOptions, type EventStream, type SseEvent } from "./client";
import { discover as discoverDaemon, infoStamp, type Discovery } from "./discovery";
import type { DaemonState, DiagnosticsStore } from "./model";

export const DEFAULT_BACKOFF_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15000, 30000];

export interface ConnectionOptions {
  vaultDir: string;
  store: DiagnosticsStore;
  /** Waits between consecutive failed tries; the last one repeats. */
  backoffMs?: readonly number[];
  /** How often daemon.json is stat'ed while waiting. */
  pollMs?: number;
  client?: ClientOptions;
  discover?: (vaultDir: string) => Promise<Discovery>;
  stamp?: (vaultDir: string) => Promise<string>;
}

export type StateListener = (state: DaemonState, detail: string) => void;
export type WrittenListener = (path: string) => void;

export class Connection {
  state: DaemonState = "connecting";
  /** Why it is not connected (never holds the token). */
  detail = "";
  /** Tries made so far (each one at most one event-stream request). */
  tries = 0;
  client: ApiClient | null = null;

  private readonly backoff: readonly number[];
  private readonly pollMs: number;
  private readonly discover: (vaultDir: string) => Promise<Discovery>;
  private readonly stamp: (vaultDir: string) => Promise<string>;
  private failures = 0;
  private stream: EventStream | null = null;
  /** Ends the wait of the try in flight when its stream is dropped from our side. */
  private settleTry: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private poller: ReturnType<typeof setInterval> | null = null;
  private lastStamp = "";
  private running = false;
  private busy = false;
  private session = 0;
  private stateListeners = new Set<StateListener>();
  private writtenListeners = new Set<WrittenListener>();

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.pollMs = options.pollMs ?? 1000;
    this.discover = options.discover ?? discoverDaemon;
    this.stamp = options.stamp ?? infoStamp;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.attempt();
  }

  stop(): void {
    this.running = false;
    this.session += 1;
    this.clearTimers();
    this.dropStream();
    this.client?.dispose();
    this.client = null;
    this.busy = false;
  }

  /** Try at once (a command asked, or a daemon was just started), back-off reset. */
  retryNow(): void {
    if (!this.running || this.busy) return;
    this.failures = 0;
    this.clearTimers();
    void this.attempt();
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onWritten(listener: WrittenListener): () => void {
    this.writtenListeners.add(listener);
    return () => this.writtenListeners.delete(listener);
  }

  /** The client of the connected daemon; throws with a sentence a person can act on. */
  connected(): ApiClient {
    if (this.state !== "connected" || this.client === null) {
      throw new Error(`the vaultsync daemon is ${this.state}${this.detail ? `: ${this.detail}` : ""}`);
    }
    return this.client;
  }

  private async attempt(): Promise<void> {
    if (!this.running || this.busy) return;
    this.busy = true;
    this.clearTimers();
    const session = ++this.session;
    this.tries += 1;
    try {
      this.lastStamp = await this.stamp(this.options.vaultDir);
      const found = await this.discover(this.options.vaultDir);
      if (session !== this.session) return;
      if (found.kind !== "found") {
        const why =
          found.kind === "absent"
            ? "no .vaultsync/daemon.json in the vault"
            : found.kind === "stale"
              ? `its process ${found.pid} is gone`
              : found.reason;
        this.fail(this.state === "connected" ? "reconnecting" : "not running", why);
        return;
      }
      const client = this.client?.endpoint.same(found.endpoint)
        ? this.client
        : new ApiClient(found.endpoint, this.options.client);
      if (client !== this.client) {
        this.client?.dispose();
        this.client = client;
      }
      await this.subscribe(client, session);
    } finally {
      if (session === this.session) this.busy = false;
    }
  }

  /** Open the stream, then take the snapshot; events that arrive meanwhile are applied
   * after it, in order, so the newest word on each note wins. */
  private subscribe(client: ApiClient, session: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let buffered: SseEvent[] | null = [];
      let settled = false;
      const done = (): void => {
        if (!settled) {
          settled = true;
          if (this.settleTry === done) this.settleTry = null;
          resolve();
        }
      };
      this.settleTry = done;
      this.stream = client.events({
        onOpen: () => {
          client
            .diagnostics()
            .then((all) => {
              if (session !== this.session) return;
              this.options.store.replaceAll(all);
              const pending = buffered ?? [];
              buffered = null;
              for (const event of pending) this.dispatch(event);
              this.failures = 0;
              this.setState("connected", "");
            })
            .catch((error: Error) => {
              if (session !== this.session) return;
              this.dropStream();
              this.fail("reconnecting", error.message);
            })
            .finally(done);
        },
        onEvent: (event) => {
          if (session !== this.session) return;
          if (buffered !== null) buffered.push(event);
          else this.dispatch(event);
        },
        onClose: (error) => {
          done();
          if (session !== this.session) return;
          this.stream = null;
          this.fail("reconnecting", error.message);
        },
      });
    });
  }

  private dispatch(event: SseEvent): void {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not ours to understand; the next snapshot has the truth
    }
    if (event.event === "diagnostics") {
      const { path, diagnostics } = data as DiagnosticsEvent;
      if (typeof path === "string" && Array.isArray(diagnostics)) {
        this.options.store.setNote(path, diagnostics as ApiDiagnostic[]);
      }
    } else if (event.event === "written") {
      const { path } = data as WrittenEvent;
      if (typeof path === "string") for (const listener of [...this.writtenListeners]) listener(path);
    }
  }

  private fail(state: DaemonState, detail: string): void {
    if (!this.running) return;
    this.session += 1; // whatever is still in flight from this try is ignored
    this.busy = false;
    this.setState(state, detail);
    const wait = this.backoff[Math.min(this.failures, this.backoff.length - 1)] ?? 1000;
    this.failures += 1;
    this.clearTimers();
    this.timer = setTimeout(() => void this.attempt(), wait);
    // A new daemon.json (a daemon started or restarted) ends the wait early.
    this.poller = setInterval(() => {
      void this.stamp(this.options.vaultDir).then((stamp) => {
        if (this.running && this.poller !== null && stamp !== this.lastStamp && stamp !== "absent") {
          this.failures = 0;
          void this.attempt();
        }
      });
    }, this.pollMs);
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = null;
    stream?.close(); // close() does not call onClose: settle the try here
    this.settleTry?.();
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.poller !== null) clearInterval(this.poller);
    this.timer = null;
    this.poller = null;
  }

  private setState(state: DaemonState, detail: string): void {
    if (state === this.state && detail === this.detail) return;
    this.state = state;
    this.detail = detail;
    for (const listener of [...this.stateListeners]) listener(state, detail);
  }
}
