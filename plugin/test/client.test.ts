import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, SseParser } from "../src/client";
import { Endpoint, discover } from "../src/discovery";
import { FakeDaemon, diagnostic, tempVault, until } from "./fake-daemon";

describe("SseParser", () => {
  it("parses events split across chunks at any byte, with LF, CRLF and CR line ends", () => {
    const stream =
      ": connected\n\n" +
      'event: diagnostics\ndata: {"path":"a.md"}\n\n' +
      "event: written\r\ndata: {\"path\":\"b.md\"}\r\n\r\n" +
      ": keep-alive\r\r" +
      "event: x\rdata: one\rdata:two\r\r" +
      ": a last CR may be half of a CRLF, so the next byte completes the event\n";
    const want = [
      { event: "diagnostics", data: '{"path":"a.md"}' },
      { event: "written", data: '{"path":"b.md"}' },
      { event: "x", data: "one\ntwo" },
    ];
    expect(new SseParser().feed(stream)).toEqual(want);
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...parser.feed(stream.slice(i, i + size)));
      expect(got, `chunks of ${size}`).toEqual(want);
    }
  });

  it("ignores comments and events without data", () => {
    expect(new SseParser().feed(": hi\n\nevent: empty\n\n")).toEqual([]);
  });
});

describe("discover", () => {
  it("reads daemon.json and the token; absent, stale and unreadable otherwise", async () => {
    const dir = await tempVault();
    expect(await discover(dir)).toEqual({ kind: "absent" });
    const daemon = await new FakeDaemon().listen();
    await daemon.advertise(dir);
    const found = await discover(dir);
    expect(found.kind).toBe("found");
    if (found.kind !== "found") return;
    expect(found.endpoint.port).toBe(daemon.port);
    expect(found.endpoint.authorization()).toBe(`Bearer ${daemon.token}`);
    expect(await discover(dir, () => false)).toEqual({ kind: "stale", pid: process.pid });
    await daemon.close();
  });

  it("never shows the token when the endpoint is printed or serialised", () => {
    const endpoint = new Endpoint(1, 2, "/v", "0.1.0", "tok-abcdef-123");
    expect(JSON.stringify(endpoint)).not.toContain("tok-abcdef-123");
    expect(String(endpoint)).not.toContain("tok-abcdef-123");
    // util.inspect, what console.log prints in Node and Electron's console
    return import("util").then(({ inspect }) => {
      expect(inspect(endpoint, { showHidden: true, depth: 5 })).not.toContain("tok-abcdef-123");
    });
  });
});

describe("ApiClient", () => {
  let daemon: FakeDaemon;
  afterEach(async () => {
    await daemon?.close();
  });

  async function client(token?: string): Promise<ApiClient> {
    daemon = await new FakeDaemon().listen();
    return new ApiClient(new Endpoint(process.pid, daemon.port, "/v", "0.1.0", token ?? daemon.token));
  }

  it("sends the token and a Host the daemon accepts, and no Origin", async () => {
    const api = await client();
    daemon.diagnostics = [diagnostic()];
    expect(await api.diagnostics()).toEqual([diagnostic()]);
    const [request] = daemon.requests;
    expect(request?.headers.host).toBe(`127.0.0.1:${daemon.port}`);
    expect(request?.headers.authorization).toBe(`Bearer ${daemon.token}`);
    expect(request?.headers.origin).toBeUndefined();
    api.dispose();
  });

  it("encodes a note's path in the query and posts JSON bodies", async () => {
    const api = await client();
    await api.diagnostics("sub/Émoji & co?.md");
    expect(daemon.requests[0]?.url).toBe(`/v1/diagnostics?path=${encodeURIComponent("sub/Émoji & co?.md")}`);
    await api.fix({ paths: ["a.md"], select: [], dry_run: true });
    expect(JSON.parse(daemon.requests[1]?.body ?? "")).toEqual({ paths: ["a.md"], select: [], dry_run: true });
    expect(daemon.requests[1]?.headers["content-type"]).toBe("application/json");
    api.dispose();
  });

  it("turns an error reply into an ApiError with the daemon's detail and without the token", async () => {
    const api = await client("wrong-token-xyz");
    const error = await api.status().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toContain("Bearer token");
    expect((error as ApiError).message).not.toContain("wrong-token-xyz");
    api.dispose();
  });

  it("reports a refused connection as status 0", async () => {
    const api = await client();
    await daemon.close();
    const error = (await api.status().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/ECONNREFUSED/);
    api.dispose();
  });

  it("streams events, and reports the end of the stream once", async () => {
    const api = await client();
    const events: string[] = [];
    const closed = vi.fn();
    let opened = false;
    api.events({ onOpen: () => (opened = true), onEvent: (e) => events.push(`${e.event} ${e.data}`), onClose: closed });
    await until(() => opened && daemon.openStreams === 1);
    daemon.emit("written", { path: "a.md" });
    daemon.emit("diagnostics", { path: "a.md", diagnostics: [] });
    await until(() => events.length === 2);
    expect(events).toEqual(['written {"path":"a.md"}', 'diagnostics {"path":"a.md","diagnostics":[]}']);
    daemon.dropConnections();
    await until(() => closed.mock.calls.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toHaveBeenCalledTimes(1);
    api.dispose();
  });

  it("gives up on a stream that stays silent past the idle limit", async () => {
    daemon = await new FakeDaemon().listen();
    const api = new ApiClient(new Endpoint(process.pid, daemon.port, "/v", "0.1.0", daemon.token), { idleMs: 150 });
    const closed = vi.fn();
    api.events({ onOpen: () => {}, onEvent: () => {}, onClose: closed });
    await until(() => closed.mock.calls.length === 1, 2000);
    expect(String(closed.mock.calls[0]?.[0])).toMatch(/no data from the daemon/);
    api.dispose();
  });

  it("close() ends the stream without calling onClose", async () => {
    const api = await client();
    const closed = vi.fn();
    let opened = false;
    const stream = api.events({ onOpen: () => (opened = true), onEvent: () => {}, onClose: closed });
    await until(() => opened);
    stream.close();
    await until(() => daemon.openStreams === 0);
    expect(closed).not.toHaveBeenCalled();
    api.dispose();
  });
});
