// A stand-in daemon for unit tests: the same guard as vaultsync's (token, Host), the same
// endpoints and event stream, with every request recorded. The real daemon is exercised
// by daemon.e2e.test.ts.
import { promises as fs } from "fs";
import * as http from "http";
import type { AddressInfo, Socket } from "net";
import * as os from "os";
import * as path from "path";
import type { ApiDiagnostic } from "../src/api";

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class FakeDaemon {
  readonly token: string;
  readonly requests: Recorded[] = [];
  diagnostics: ApiDiagnostic[] = [];
  /** Delay the snapshot reply (to let events arrive before it). */
  snapshotDelayMs = 0;
  /** Answer every request with this status instead (e.g. 500). */
  failWith: number | null = null;
  fixReply: unknown = { dry_run: false, changed: [], skipped: {}, remaining: 0 };
  port = 0;
  private server: http.Server;
  private streams = new Set<http.ServerResponse>();
  private sockets = new Set<Socket>();

  constructor(token = "s3cret-token-value") {
    this.token = token;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Write `.vaultsync/daemon.json` and `.vaultsync/token` into `vaultDir`. */
  async advertise(vaultDir: string, pid = process.pid): Promise<void> {
    await fs.mkdir(path.join(vaultDir, ".vaultsync"), { recursive: true });
    await fs.writeFile(path.join(vaultDir, ".vaultsync", "token"), `${this.token}\n`, { mode: 0o600 });
    const info = { pid, port: this.port, vault: vaultDir, version: "0.1.0" };
    await fs.writeFile(path.join(vaultDir, ".vaultsync", "daemon.json"), `${JSON.stringify(info)}\n`);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  count(url: string): number {
    return this.requests.filter((r) => r.url.split("?")[0] === url).length;
  }

  emit(event: string, data: unknown): void {
    for (const res of this.streams) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Drop every connection (a crash, as the client sees it), keep listening. */
  dropConnections(): void {
    for (const res of this.streams) res.destroy();
    this.streams.clear();
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const reply = (status: number, data: unknown): void => {
        const text = JSON.stringify(data);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.headers.host !== `127.0.0.1:${this.port}` && req.headers.host !== `localhost:${this.port}`) {
        reply(403, { detail: "Host must be 127.0.0.1 or localhost with the API port" });
        return;
      }
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        reply(401, { detail: "missing or wrong Authorization: Bearer token" });
        return;
      }
      if (this.failWith !== null) {
        reply(this.failWith, { detail: "failing on purpose" });
        return;
      }
      const url = (req.url ?? "").split("?")[0];
      if (url === "/v1/events") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
        res.write(": connected\n\n");
        this.streams.add(res);
        res.on("close", () => this.streams.delete(res));
        return;
      }
      if (url === "/v1/diagnostics") {
        const query = new URL(req.url ?? "", "http://x").searchParams.get("path");
        const list = query === null ? this.diagnostics : this.diagnostics.filter((d) => d.path === query);
        setTimeout(() => reply(200, { diagnostics: list }), this.snapshotDelayMs);
        return;
      }
      if (url === "/v1/status") {
        reply(200, { version: 1, vaultsync: "0.1.0", vault: "/v", pid: process.pid, port: this.port, notes: 1, attachments: 0, pending: 0, generation: 1 });
        return;
      }
      if (url === "/v1/fix" && req.method === "POST") {
        reply(200, this.fixReply);
        return;
      }
      if (url === "/v1/rescan" && req.method === "POST") {
        reply(200, { notes: 1, attachments: 0, changed: 0 });
        return;
      }
      reply(404, { detail: `${url}: not found` });
    });
  }
}

export async function tempVault(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "vaultsync-plugin-"));
}

export function diagnostic(overrides: Partial<ApiDiagnostic> = {}): ApiDiagnostic {
  return {
    path: "Note.md",
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } },
    code: "L001",
    rule: "broken-link",
    severity: "warning",
    message: 'Broken link: no note or file matches "x"',
    data: {},
    fix: null,
    ...overrides,
  };
}

/** Poll `predicate` until it holds; fails the test after `timeoutMs`. */
export async function until<T>(predicate: () => T | Promise<T>, timeoutMs = 5000, stepMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
