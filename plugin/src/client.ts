// HTTP/1.1 to the daemon on 127.0.0.1 through Node's `http` (desktop Obsidian has it):
// no CORS, no Origin header, and a real stream for server-sent events.
import * as http from "http";
import type {
  ApiDiagnostic,
  DiagnosticsOut,
  FixOut,
  FixRequest,
  RescanOut,
  Status,
} from "./api";
import type { Endpoint } from "./discovery";

/** A reply other than 2xx; `status` 0: no reply at all (refused, reset, timed out). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Incremental text/event-stream parser (fields `event` and `data`; comments skipped). */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) break;
      // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const done = this.line(line);
      if (done !== null) out.push(done);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      const event = this.data.length > 0 ? { event: this.event || "message", data: this.data.join("\n") } : null;
      this.event = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    return null;
  }
}

export interface StreamHandlers {
  /** The daemon accepted the subscription (its first bytes arrived). */
  onOpen(): void;
  onEvent(event: SseEvent): void;
  /** The stream ended or never opened; not called after `close()`. */
  onClose(error: Error): void;
}

export interface EventStream {
  close(): void;
}

export interface ClientOptions {
  /** Give up on a request after this long. */
  timeoutMs?: number;
  /** Treat the event stream as dead after this long without a byte (the daemon sends a
   * keep-alive every 15 s); catches a daemon frozen or a machine woken from sleep. */
  idleMs?: number;
}

export class ApiClient {
  private readonly timeoutMs: number;
  private readonly idleMs: number;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    readonly endpoint: Endpoint,
    options: ClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.idleMs = options.idleMs ?? 45_000;
  }

  status(): Promise<Status> {
    return this.request<Status>("GET", "/v1/status");
  }

  diagnostics(path?: string): Promise<ApiDiagnostic[]> {
    const query = path === undefined ? "" : `?path=${encodeURIComponent(path)}`;
    return this.request<DiagnosticsOut>("GET", `/v1/diagnostics${query}`).then((out) => out.diagnostics);
  }

  fix(request: FixRequest): Promise<FixOut> {
    return this.request<FixOut>("POST", "/v1/fix", request);
  }

  rescan(): Promise<RescanOut> {
    return this.request<RescanOut>("POST", "/v1/rescan");
  }

  /** Free the sockets kept alive for this daemon. */
  dispose(): void {
    this.agent.destroy();
  }

  request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
    const headers: http.OutgoingHttpHeaders = {
      Authorization: this.endpoint.authorization(),
      Accept: "application/json",
    };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = payload.length;
    }
    const what = `${method} ${path}`;
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: this.endpoint.port, path, method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => reject(new ApiError(0, `${what}: ${error.message}`)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(new ApiError(status, `${what}: ${status} ${detailOf(text)}`));
              return;
            }
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(new ApiError(status, `${what}: the reply is not JSON`));
            }
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no reply in ${this.timeoutMs} ms`)));
      req.on("error", (error) => reject(new ApiError(0, `${what}: ${error.message}`)));
      req.end(payload);
    });
  }

  /** Subscribe to `GET /v1/events`. */
  events(handlers: StreamHandlers): EventStream {
    let closed = false;
    let finished = false;
    let idle: ReturnType<typeof setTimeout> | null = null;
    const finish = (error: Error): void => {
      if (finished) return;
      finished = true;
      if (idle !== null) clearTimeout(idle);
      req.destroy();
      if (!closed) handlers.onClose(error);
    };
    const watch = (): void => {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => finish(new Error(`no data from the daemon in ${this.idleMs} ms`)), this.idleMs);
    };
    const parser = new SseParser();
    // Its own socket (no agent): a stream that stays open must not hold a pooled one.
    const req = http.request(
      {
        host: "127.0.0.1",
        port: this.endpoint.port,
        path: "/v1/events",
        method: "GET",
        headers: { Authorization: this.endpoint.authorization(), Accept: "text/event-stream" },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          finish(new ApiError(res.statusCode ?? 0, `GET /v1/events: ${res.statusCode}`));
          return;
        }
        res.setEncoding("utf8");
        let opened = false;
        res.on("data", (chunk: string) => {
          watch();
          if (!opened) {
            opened = true;
            if (!closed) handlers.onOpen();
          }
          for (const event of parser.feed(chunk)) {
            if (closed || finished) return;
            handlers.onEvent(event);
          }
        });
        res.on("end", () => finish(new ApiError(0, "the daemon closed the event stream")));
        res.on("error", (error) => finish(new ApiError(0, `event stream: ${error.message}`)));
        res.on("close", () => finish(new ApiError(0, "the daemon closed the event stream")));
      },
    );
    req.on("error", (error) => finish(new ApiError(0, `GET /v1/events: ${error.message}`)));
    req.setNoDelay?.(true);
    req.end();
    watch();
    return {
      close: () => {
        closed = true;
        finish(new Error("closed"));
      },
    };
  }
}

function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
    if (body.detail !== undefined) return JSON.stringify(body.detail);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}
