import fs from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../harness.ts';
import { runVigilCli, type ServerProcess, startServerProcess } from '../processes.ts';
import { databaseEnv } from '../server-database.ts';

const ORIGIN = 'https://shop.example.test';
const IDLE_MS = 1500;
/**
 * The idle timeout of the server whose two ingest slots slow bodies hold: longer, as the test must see a
 * request refused while they hold them, and a request takes a while on a loaded machine.
 */
const SLOTS_IDLE_MS = 4000;
/** How much later than the idle timeout a 408 may come: the server's own timers, and a loaded CI machine. */
const MARGIN_MS = 2500;

/** Sockets a test opened, destroyed after it so that no held connection outlives it. */
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i += 1) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return false;
}

async function cli(args: string[], dataDir: string): Promise<string> {
  const { code, stdout, stderr } = await runVigilCli(args, {
    VIGIL_DATA_DIR: dataDir,
    ...(await databaseEnv(dataDir)),
  });
  if (code !== 0) throw new Error(`vigil ${args.join(' ')} failed (${code}): ${stderr}`);
  return stdout.trim().split('\n').at(-1) ?? '';
}

interface Target {
  server: ServerProcess;
  ingestKey: string;
  appKey: string | undefined;
}

/** Servers and data dirs to undo after the file, registered as soon as each exists. */
const teardowns: (() => Promise<void> | void)[] = [];
async function tearDown(): Promise<void> {
  for (const teardown of teardowns.splice(0).reverse()) await teardown();
}
afterAll(tearDown);

/** A fresh data dir with an ingest key (and the shop's Faro app, if asked), and a server started on it. */
async function startTarget(env: Record<string, string>, options: { faroApp: boolean }): Promise<Target> {
  const dataDir = tempDataDir();
  teardowns.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const ingestKey = await cli(['keys', 'create', '--role', 'ingest', '--name', 'attacker'], dataDir);
  const appKey = options.faroApp
    ? await cli(['apps', 'create', '--name', 'shop', '--origin', ORIGIN], dataDir)
    : undefined;
  const server = await startServerProcess(
    {
      VIGIL_DATA_DIR: dataDir,
      ...(await databaseEnv(dataDir)),
      // Connections still held must not stretch the stop.
      VIGIL_SHUTDOWN_TIMEOUT_MS: '1000',
      ...env,
    },
    45_000,
  );
  teardowns.push(async () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    server.child.kill('SIGTERM');
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(killer);
  });
  return { server, ingestKey, appKey };
}

/** A client sending a body by hand over a raw socket, so that the test alone decides when bytes go. */
interface RawClient {
  socket: net.Socket;
  openedAt: number;
  /** Everything the server has sent so far. */
  received(): string;
  /** The status of the first response, once its status line has arrived. */
  status(): number | undefined;
  /** When the status line arrived (ms since the epoch). */
  answeredAt(): number | undefined;
  closed(): boolean;
}

/** Connects, sends the request head with `contentLength` and the first bytes of a body, then nothing more. */
async function openSlowBody(
  port: number,
  path: string,
  headers: Record<string, string>,
  contentLength: number,
  firstBytes: string,
): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  // The server may reset a socket it is done with; that is the subject of these tests, not an error here.
  socket.on('error', () => {});
  let text = '';
  let answeredAt: number | undefined;
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    if (answeredAt === undefined && /^HTTP\/1\.1 \d{3}/.test(text)) answeredAt = Date.now();
  });
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(requestHead(port, path, headers, contentLength) + firstBytes);
  return {
    socket,
    openedAt: Date.now(),
    received: () => text,
    status: () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      return match ? Number(match[1]) : undefined;
    },
    answeredAt: () => answeredAt,
    closed: () => closed,
  };
}

function requestHead(port: number, path: string, headers: Record<string, string>, length: number): string {
  return [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    `Content-Length: ${length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
}

/**
 * Sends a whole body over a raw socket and reads the answer up to the close. Large bodies go this way rather
 * than by `fetch`, whose upload of megabytes stalls this process's event loop for seconds on a busy machine
 * and would be counted against the server.
 */
function sendRaw(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number | undefined; text: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    // A server that answers before the whole body is sent may reset the rest: the answer is what counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text });
    });
    socket.write(requestHead(port, path, { ...headers, connection: 'close' }, body.length));
    socket.write(body);
  });
}

const faroPayload = JSON.stringify({
  meta: { app: { name: 'shop' }, session: { id: 'session-1' } },
  logs: [{ message: 'checkout opened', level: 'info', timestamp: '2026-12-01T10:00:00.000Z' }],
});

function postFaro(target: Target, body: string = faroPayload): Promise<Response> {
  return fetch(`${target.server.baseUrl}/collect/${target.appKey}`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    body,
  });
}

let eventSeq = 0;
function postEvent(target: Target): Promise<Response> {
  eventSeq += 1;
  return fetch(`${target.server.baseUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: [
        {
          id: `e${eventSeq}`,
          type: 'click',
          ts: '2026-12-01T10:00:00Z',
          affiliateId: 'a1',
          clickId: `c${eventSeq}`,
          ip: '198.51.100.7',
          userAgent: 'attack-test',
        },
      ],
    }),
  });
}

function postLogs(target: Target, body?: string): Promise<Response> {
  return fetch(`${target.server.baseUrl}/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' },
    body:
      body ?? JSON.stringify([{ ts: '2026-12-01T10:00:00Z', level: 'info', service: 'shop', message: 'ok' }]),
  });
}

/** The server's JSON log lines; a line that is not JSON is kept as its text. */
function logLines(server: ServerProcess): { level?: string; msg?: string; route?: string; text: string }[] {
  return server
    .logs()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((text) => {
      try {
        return { ...(JSON.parse(text) as { level?: string; msg?: string; route?: string }), text };
      } catch {
        return { text };
      }
    });
}

/** Lines that would page someone: error level, unhandled errors, and anything not JSON (a crash trace). */
function troubleLines(server: ServerProcess): string[] {
  return logLines(server)
    .filter((l) => l.level === undefined || l.level === 'error' || l.msg === 'unhandled error')
    .map((l) => l.text);
}

/** Polls `/metrics` (rendered at most once a second) until `pattern` matches; returns the last text. */
async function metricsMatching(server: ServerProcess, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  let text = '';
  await waitFor(async () => {
    text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    return pattern.test(text);
  }, timeoutMs);
  return text;
}

describe('a started server process against slow and hostile clients (end to end)', () => {
  // Each test has its own data dir and server, with the limits it attacks. All start before the first test,
  // so that no start (seconds of CPU) competes with a test's timing.
  let faroSlots: Target;
  let ingestSlots: Target;
  let deepBodies: Target;
  let aborts: Target;
  beforeAll(async () => {
    const started = await Promise.allSettled([
      startTarget(
        { VIGIL_FARO_MAX_IN_FLIGHT: '8', VIGIL_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS) },
        { faroApp: true },
      ),
      startTarget(
        { VIGIL_INGEST_MAX_IN_FLIGHT: '2', VIGIL_BODY_IDLE_TIMEOUT_MS: String(SLOTS_IDLE_MS) },
        { faroApp: false },
      ),
      startTarget({}, { faroApp: true }),
      startTarget({ VIGIL_LOG_LEVEL: 'debug' }, { faroApp: false }),
    ]);
    const targets = started.map((result) => {
      if (result.status === 'fulfilled') return result.value;
      throw result.reason;
    });
    [faroSlots, ingestSlots, deepBodies, aborts] = targets as [Target, Target, Target, Target];
  }, 90_000);

  it('slow Faro bodies hold only their app’s slots, never the backends’, and get 408 after the idle timeout', async () => {
    const target = faroSlots;
    const { port } = target.server;
    const slow = await Promise.all(
      Array.from({ length: 20 }, () =>
        openSlowBody(
          port,
          `/collect/${target.appKey}`,
          { origin: ORIGIN, 'content-type': 'application/json' },
          100_000,
          '{"',
        ),
      ),
    );
    // Eight take the app's slots; the other twelve are refused at once, before their bodies are read.
    const refused = () => slow.filter((s) => s.status() === 503);
    expect(await waitFor(() => refused().length === 12, 1000), 'twelve refused at once').toBe(true);
    for (const s of refused()) expect(s.received()).toMatch(/\r\nretry-after: \d+\r\n/i);

    const [collect, events, logs, health] = await Promise.all([
      postFaro(target),
      postEvent(target),
      postLogs(target),
      fetch(`${target.server.baseUrl}/healthz`),
    ]);
    const checkedAt = Date.now();
    expect(collect.status).toBe(503);
    expect(collect.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(events.status).toBe(202);
    expect(logs.status).toBe(202);
    expect(health.status).toBe(200);
    const holders = slow.filter((s) => s.status() !== 503);
    expect(holders).toHaveLength(8);
    // The checks ran while the eight still held their slots, not after the slots came free.
    expect(holders.every((s) => (s.answeredAt() ?? Number.POSITIVE_INFINITY) > checkedAt)).toBe(true);

    const settled = await waitFor(
      () => holders.every((s) => s.status() !== undefined || s.closed()),
      IDLE_MS + MARGIN_MS,
    );
    expect(settled, 'every slow body answered or cut within the idle timeout and a margin').toBe(true);
    for (const s of holders) {
      if (s.status() === undefined) continue; // closed without an answer: also frees the slot
      expect(s.status()).toBe(408);
      expect(s.received()).toMatch(/\r\nconnection: close\r\n/i);
      expect((s.answeredAt() ?? 0) - s.openedAt).toBeLessThan(IDLE_MS + MARGIN_MS);
    }
    expect(await waitFor(() => holders.every((s) => s.closed()), 2000), 'the 408s close').toBe(true);

    expect((await postFaro(target)).status).toBe(202);
    expect(troubleLines(target.server)).toEqual([]);
  });

  it('a slow ingest body gets a 408 problem after the idle timeout and frees its slot', async () => {
    const target = ingestSlots;
    const headers = { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' };
    const slow = await Promise.all(
      [1, 2].map(() => openSlowBody(target.server.port, '/v1/events', headers, 100_000, '{"')),
    );

    // Both hold their slots once the server counts them. (Waiting for that matters: a request sent while a
    // slow head is still on its way may take the slot first, and then the slow one is the request refused.)
    const holding = /^vigil_ingest_requests_in_flight 2$/m;
    expect(await metricsMatching(target.server, holding, SLOTS_IDLE_MS - 1500)).toMatch(holding);
    const refused = await postEvent(target);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(slow.every((s) => s.status() === undefined)).toBe(true);

    expect(
      await waitFor(
        () => slow.every((s) => s.status() !== undefined || s.closed()),
        SLOTS_IDLE_MS + MARGIN_MS,
      ),
      'both slow bodies answered or cut within the idle timeout and a margin',
    ).toBe(true);
    for (const s of slow) {
      expect(s.status()).toBe(408);
      const text = s.received();
      expect(text).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).toContain('"type":"urn:vigil:problem:request-timeout"');
      expect((s.answeredAt() ?? 0) - s.openedAt).toBeGreaterThanOrEqual(SLOTS_IDLE_MS - 100);
    }
    // The server closes the connection it said it would close.
    expect(await waitFor(() => slow.every((s) => s.closed()), 2000), 'the 408s close').toBe(true);

    expect((await postEvent(target)).status).toBe(202);
    expect(troubleLines(target.server)).toEqual([]);
  });

  it('deeply nested bodies are refused before parsing, without stalling the event loop', async () => {
    const target = deepBodies;
    const { port } = target.server;
    const deep = Buffer.from(`${'['.repeat(2_500_000)}${']'.repeat(2_500_000)}`);

    let done = false;
    const latencies: number[] = [];
    const probe = (async () => {
      for (let i = 0; i < 500 && !done; i += 1) {
        const started = performance.now();
        const res = await fetch(`${target.server.baseUrl}/healthz`);
        await res.arrayBuffer();
        latencies.push(performance.now() - started);
        expect(res.status).toBe(200);
        await sleep(20);
      }
    })();
    const faroHeaders = { origin: ORIGIN, 'content-type': 'application/json' };
    const logHeaders = { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' };
    const answers = await Promise.all([
      ...[1, 2, 3, 4].map(() => sendRaw(port, `/collect/${target.appKey}`, faroHeaders, deep)),
      ...[1, 2, 3, 4].map(() => sendRaw(port, '/v1/logs', logHeaders, deep)),
    ]);
    done = true;
    await probe;

    for (const { status, text } of answers) {
      expect([413, 422]).toContain(status);
      expect(text).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      if (status === 422) expect(text).toContain('"type":"urn:vigil:problem:nesting-too-deep"');
    }
    expect(latencies.length).toBeGreaterThan(0);
    // About stalls of seconds (8 s were seen), not fine timing: generous for a loaded machine.
    expect(Math.max(...latencies)).toBeLessThan(1500);

    const deepContext = `{"logs":[{"message":"m","context":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`;
    const res = await postFaro(target, deepContext);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string }).type).toBe('urn:vigil:problem:nesting-too-deep');
    expect(target.server.logs()).not.toMatch(/stack overflow|Maximum call stack/i);
    expect(troubleLines(target.server)).toEqual([]);
    expect((await fetch(`${target.server.baseUrl}/healthz`)).status).toBe(200);
  });

  it('a client that goes away mid-body is counted and logged at debug, never as an error', async () => {
    const target = aborts;
    const headers = { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' };
    const abort = async () => {
      const client = await openSlowBody(target.server.port, '/v1/events', headers, 100_000, '{"events":');
      // Long enough for the server to be reading the body when the client leaves.
      await sleep(100);
      client.socket.destroy();
    };
    const closedLines = () =>
      logLines(target.server).filter((l) => l.msg === 'client closed the request' && l.level === 'debug');

    await abort();
    const once = /vigil_http_aborted_requests_total\{route="\/v1\/events"\} 1\n/;
    expect(await metricsMatching(target.server, once)).toMatch(once);
    expect(await waitFor(() => closedLines().length === 1, 2000), 'one debug line').toBe(true);
    expect(closedLines()[0]?.route).toBe('/v1/events');
    expect(troubleLines(target.server)).toEqual([]);

    for (let batch = 0; batch < 5; batch += 1) {
      await Promise.all(Array.from({ length: 10 }, abort));
    }
    const all = /vigil_http_aborted_requests_total\{route="\/v1\/events"\} 51\n/;
    expect(await metricsMatching(target.server, all)).toMatch(all);
    expect(await waitFor(() => closedLines().length === 51, 2000), '51 debug lines').toBe(true);
    expect(troubleLines(target.server)).toEqual([]);
    // The server still serves the next client.
    expect((await postEvent(target)).status).toBe(202);
  });
});
