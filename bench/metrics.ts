// What one ingest key (or the public Faro app key) can do to `/metrics` and to ingestion.
//
// 1. Cardinality: server logs over 51 services × 201 routes × 8 methods × 5 status classes (410,040 label
//    combinations, batches of 1000) and Faro payloads over 450 page routes, sent to Vigil as `npm start` runs
//    it; then `/metrics` is measured (lines, bytes, renders after the 1 s cache expired with `/healthz` probed
//    during them; 8 scrapes at once) against the same combinations in an unbounded prom-client Registry, which
//    is what the two service families were before their series budget (lines, bytes, one render). Target:
//    < 10,000 lines and a render < 100 ms whatever the input.
// 2. Slow bodies: 520 `POST /collect/<appKey>` sockets that send their headers (Content-Length 1,000,000) and
//    2 bytes of body, then nothing, while a closed loop posts to `/v1/events` with an ingest key; against the
//    same loop with no slow sockets, before and after, on the same server.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuProfileFlags, SERVER_NODE_FLAGS, stopProcess } from './harness.ts';
import { bodies } from './ingest.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the benchmark's Faro app says its pages are. */
export const BENCH_ORIGIN = 'https://shop.bench';
/** The buckets of `vigil_service_request_duration_seconds` (`ingest/logs/red-metrics.ts`). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

// One more than each cap of the service (50 services, 200 routes per service): before the series budget, that
// is 51 × 201 label values, `other` included.
const SERVICES = 51;
const ROUTES = 201;
// Seven methods the log schema takes, and none (recorded as OTHER).
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', undefined] as const;
const STATUSES = [101, 200, 302, 404, 503] as const;
const LOG_BATCH = 1000;
const FARO_PAGES = 450; // under the app's burst of 500 tokens, so that none is rate-limited
const SCRAPERS = 8;
const SLOW_SOCKETS = 520;
const SLOW_CONTENT_LENGTH = 1_000_000;
const LOAD_CONNECTIONS = 32;
const EVENTS_PER_BODY = 50;
/**
 * The share of the attack's services the unbounded baseline holds: all of them (410,040 counter series and
 * 10,251 histograms: about 54 MB of text, 10 to 15 s a render, under 2 GB of memory).
 */
const BASELINE_SHARE = 1;

/** A server-log entry as the attack sends it. */
export interface AttackLogEntry {
  ts: string;
  level: 'info';
  service: string;
  message: string;
  route: string;
  method?: string;
  status: number;
  durationMs: number;
}

/** `a`, `b`, …, `z`, `aa`, `ab`, …: plain words, which route templating keeps as they are. */
function letters(n: number): string {
  let word = '';
  for (let i = n; i >= 0; i = Math.floor(i / 26) - 1) word = String.fromCharCode(97 + (i % 26)) + word;
  return word;
}

/**
 * The cardinality attack's server logs, in batches of 1000: one entry per (service, route, method, status
 * class), for `share` of the 51 services. Routes are words (`/route-ab`), so templating keeps each distinct.
 */
export function* attackLogEntries(share = 1): Generator<AttackLogEntry[]> {
  const services = Math.max(1, Math.round(SERVICES * share));
  let batch: AttackLogEntry[] = [];
  let n = 0;
  for (let s = 0; s < services; s += 1) {
    for (let r = 0; r < ROUTES; r += 1) {
      for (const method of METHODS) {
        for (const status of STATUSES) {
          n += 1;
          batch.push({
            ts: '2026-11-28T12:00:00Z',
            level: 'info',
            service: `svc-${s}`,
            message: 'request served',
            route: `/route-${letters(r)}`,
            ...(method === undefined ? {} : { method }),
            status,
            durationMs: (n * 37) % 3000,
          });
          if (batch.length === LOG_BATCH) {
            yield batch;
            batch = [];
          }
        }
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** A Faro payload as `@grafana/faro-web-sdk` sends it, anonymous, with the five web vitals and one exception. */
function faroPayload(page: number): string {
  const at = '2026-11-28T12:14:51.135Z';
  return JSON.stringify({
    meta: {
      sdk: { name: 'faro-web', version: '2.12.1' },
      app: { name: 'shop', version: '1.2.3', environment: 'production' },
      page: { url: `${BENCH_ORIGIN}/page-${letters(page)}?utm_source=bench` },
      session: { id: `s${page.toString(36)}` },
    },
    measurements: [
      {
        type: 'web-vitals',
        values: { lcp: 2345.6, fcp: 1200, inp: 180, ttfb: 420, cls: 0.04 },
        timestamp: at,
      },
    ],
    exceptions: [{ type: 'Error', value: 'Cannot read properties of undefined', timestamp: at }],
  });
}

// ------------------------------------------------------------------------------------------------------------
// Child processes

/** A server under test in a process of its own. */
interface Child<T> {
  info: T;
  /** Ends the process and waits until it is gone (killed after 5 s), then deletes its data. */
  stop(): Promise<void>;
}

/** The environment of a Vigil child: ours without any Vigil setting, so that every default holds but `set`. */
function vigilEnv(dataDir: string, set: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(VIGIL_|PORT$|HOST$|DATABASE_URL$|OPENSEARCH_URL$)/.test(name)) env[name] = value;
  }
  return { ...env, PORT: '0', HOST: '127.0.0.1', VIGIL_DATA_DIR: dataDir, VIGIL_LOG_LEVEL: 'warn', ...set };
}

/** Starts `bench/metrics-target.ts <args>` and waits for the JSON line it prints when it listens. */
async function startChild<T>(args: string[], env?: NodeJS.ProcessEnv, dataDir?: string): Promise<Child<T>> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...cpuProfileFlags(),
      ...SERVER_NODE_FLAGS,
      '--import',
      'tsx',
      path.join(ROOT, 'bench/metrics-target.ts'),
      ...args,
    ],
    { cwd: ROOT, env: env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    await stopProcess(child);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const info = await new Promise<T>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const newline = out.indexOf('\n');
        if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as T);
      });
      child.once('exit', (code) => reject(new Error(`metrics-target ${args[0]} exited with ${code}`)));
      setTimeout(
        () => reject(new Error(`metrics-target ${args[0]} did not start within 120 s`)),
        120_000,
      ).unref();
    });
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface VigilInfo {
  port: number;
  ingestKey: string;
  appKey: string;
}

/** Vigil as `npm start` runs it, with every default but `set`, on a data directory of its own. */
async function startVigil(set: Record<string, string>): Promise<Child<VigilInfo> & { url: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-metrics-'));
  const child = await startChild<VigilInfo>(['vigil'], vigilEnv(dataDir, set), dataDir);
  return { ...child, url: `http://127.0.0.1:${child.info.port}` };
}

// ------------------------------------------------------------------------------------------------------------
// Figures

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The q-quantile of sorted numbers, rounded (0 for none). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

const ascending = (values: number[]) => [...values].sort((a, b) => a - b);
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number) => (b === 0 ? '-' : (a / b).toPrecision(3));

// ------------------------------------------------------------------------------------------------------------
// 1. Cardinality

/** POSTs each body with `concurrency` in flight, retrying 429 and 503 (a bounded number of times). */
async function sendAll(
  url: string,
  headers: Record<string, string>,
  bodyList: Iterable<string>,
  concurrency: number,
): Promise<{ sent: number; statuses: Record<number, number>; seconds: number }> {
  const started = performance.now();
  const statuses: Record<number, number> = {};
  const iterator = bodyList[Symbol.iterator]();
  let sent = 0;
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      let status = 0;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: next.value,
          signal: AbortSignal.timeout(60_000),
        });
        await res.arrayBuffer();
        status = res.status;
        if (status !== 429 && status !== 503) break;
        await sleep(Math.min(1000, Number(res.headers.get('retry-after') ?? '1') * 1000));
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      sent += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sent, statuses, seconds: (performance.now() - started) / 1000 };
}

interface Scrape {
  ms: number;
  text: string;
  /** The server's own render time, when it says (the baseline's `x-render-ms`). */
  renderMs?: number;
}

async function scrape(url: string): Promise<Scrape> {
  const started = performance.now();
  // The unbounded baseline takes seconds a render; two minutes is far beyond any.
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const header = res.headers.get('x-render-ms');
  return { ms, text, ...(header === null ? {} : { renderMs: Number(header) }) };
}

/** `/healthz` one after another (10 ms apart) until `done()`; latencies in ms, a timeout counting as 30 s. */
async function probeHealth(url: string, done: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < 10_000 && !done(); i += 1) {
    const started = performance.now();
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
    } catch {
      // Timed out: counted at the time it waited.
    }
    latencies.push(performance.now() - started);
    await sleep(10);
  }
  return latencies;
}

/** `count` scrapes of `/metrics` at once, with `/healthz` probed until every one is answered. */
async function scrapeProbing(url: string, count: number): Promise<{ scrapes: Scrape[]; health: number[] }> {
  let done = false;
  const probes = probeHealth(url, () => done);
  const scrapes = await Promise.all(Array.from({ length: count }, () => scrape(url))).finally(() => {
    done = true;
  });
  return { scrapes, health: await probes };
}

/** `rounds` times, once the render cache has expired (> 1 s): `count` scrapes at once, `/healthz` probed. */
async function afterExpiry(url: string, rounds: number, count: number) {
  const scrapes: Scrape[] = [];
  const health: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    await sleep(1100);
    const round = await scrapeProbing(url, count);
    scrapes.push(...round.scrapes);
    health.push(...round.health);
  }
  return { scrapes, health: ascending(health) };
}

/** Lines of the exposition text per family (its HELP and TYPE lines included). */
function linesByFamily(text: string): Map<string, number> {
  const families = new Map<string, number>();
  let family = '(none)';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) family = line.split(' ')[2] ?? family;
    families.set(family, (families.get(family) ?? 0) + 1);
  }
  return families;
}

const lineCount = (text: string) => text.split('\n').filter((l) => l !== '').length;

/** A sample's value in the exposition text (0 when absent). */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/**
 * Vigil's own render times (ms), from `vigil_metrics_render_duration_seconds` in consecutive renders: each
 * text holds the renders before it, so the difference of two holds the render of the first.
 */
function serverRenders(texts: string[]): number[] {
  const times: number[] = [];
  for (let i = 1; i < texts.length; i += 1) {
    const [before, after] = [texts[i - 1] ?? '', texts[i] ?? ''];
    const count = (t: string) => sample(t, 'vigil_metrics_render_duration_seconds_count');
    const sum = (t: string) => sample(t, 'vigil_metrics_render_duration_seconds_sum');
    if (count(after) - count(before) === 1) times.push((sum(after) - sum(before)) * 1000);
  }
  return ascending(times);
}

interface ExposureFigures {
  name: string;
  lines: number;
  bytes: number;
  /** Scrapes that rendered (the cache expired), ms, sorted. */
  renders: number[];
  /** The server's own render times, ms, sorted. */
  serverRenders: number[];
  /** `/healthz` latencies during those renders, ms, sorted. */
  health: number[];
}

function exposureRow(f: ExposureFigures) {
  const ms = (values: number[], q: number) => (values.length === 0 ? '-' : quantile(values, q));
  return {
    target: f.name,
    lines: thousands(f.lines),
    MB: (f.bytes / 1e6).toFixed(3),
    renders: f.renders.length,
    'render ms p50': ms(f.renders, 0.5),
    'render ms max': ms(f.renders, 1),
    'server render ms p50': ms(f.serverRenders, 0.5),
    'healthz max ms (during)': ms(f.health, 1),
  };
}

async function cardinality(seconds: number): Promise<void> {
  const rounds = Math.max(1, Math.min(5, Math.floor(seconds / 3)));
  const vigil = await startVigil({ VIGIL_FARO_ANONYMOUS_TELEMETRY: 'exempt' });
  let figures: ExposureFigures;
  let storm: { scrapes: Scrape[]; health: number[] };
  let idleLines: number;
  let attacked: string;
  try {
    idleLines = lineCount((await scrape(vigil.url)).text);
    const logs = await sendAll(
      `${vigil.url}/v1/logs`,
      { authorization: `Bearer ${vigil.info.ingestKey}`, 'content-type': 'application/json' },
      (function* () {
        for (const batch of attackLogEntries()) yield JSON.stringify(batch);
      })(),
      4,
    );
    const faro = await sendAll(
      `${vigil.url}/collect/${vigil.info.appKey}`,
      { 'content-type': 'application/json' },
      Array.from({ length: FARO_PAGES }, (_, i) => faroPayload(i)),
      8,
    );
    console.log(
      `\nmetrics: cardinality attack: ${thousands(SERVICES * ROUTES * METHODS.length * STATUSES.length)} log entries ` +
        `(${SERVICES} services × ${ROUTES} routes × ${METHODS.length} methods × ${STATUSES.length} status classes) in ` +
        `${logs.sent} batches, ${logs.seconds.toFixed(1)} s, answers ${JSON.stringify(logs.statuses)}; ` +
        `${faro.sent} Faro payloads over ${FARO_PAGES} pages, answers ${JSON.stringify(faro.statuses)}`,
    );
    // Renders are a second apart at least: each of these scrapes, 1.1 s after the last, renders.
    const singles = await afterExpiry(vigil.url, 4, 1);
    storm = await afterExpiry(vigil.url, rounds, SCRAPERS);
    const first = singles.scrapes[0]?.text ?? '';
    figures = {
      name: 'Vigil, whole /metrics',
      lines: lineCount(first),
      bytes: Buffer.byteLength(first),
      renders: ascending(singles.scrapes.map((s) => s.ms)),
      serverRenders: serverRenders(singles.scrapes.map((s) => s.text)),
      health: singles.health,
    };
    attacked = [...linesByFamily(first).entries()]
      .filter(([name]) =>
        /^(vigil_service_|vigil_web_vitals_|vigil_browser_|http_request_duration)/.test(name),
      )
      .map(([name, n]) => `${name} ${thousands(n)}`)
      .join(', ');
  } finally {
    await vigil.stop();
  }

  const baseline = await startChild<{ port: number; services: number; recordMs: number }>([
    'baseline',
    String(BASELINE_SHARE),
  ]);
  let base: ExposureFigures;
  try {
    const url = `http://127.0.0.1:${baseline.info.port}`;
    const single = await scrapeProbing(url, 1);
    const rendered = single.scrapes[0];
    if (!rendered) throw new Error('the baseline was not scraped');
    base = {
      name: `unbounded Registry, 2 families${BASELINE_SHARE === 1 ? '' : ` (${BASELINE_SHARE} of the attack)`}`,
      lines: lineCount(rendered.text),
      bytes: Buffer.byteLength(rendered.text),
      renders: [rendered.ms],
      serverRenders: rendered.renderMs === undefined ? [] : [rendered.renderMs],
      health: ascending(single.health),
    };
  } finally {
    await baseline.stop();
  }

  console.log(
    `metrics: /metrics after the attack, one scrape at a time after the 1 s cache expired (Vigil had ` +
      `${thousands(idleLines)} lines before the attack; the baseline holds the same combinations ` +
      `(${baseline.info.services} service labels, \`other\` included), recorded in ` +
      `${(baseline.info.recordMs / 1000).toFixed(1)} s, and renders for each scrape)`,
  );
  console.table([exposureRow(figures), exposureRow(base)]);
  console.log(
    `ratio (Vigil / unbounded): lines ${ratio(figures.lines, base.lines)}, bytes ${ratio(figures.bytes, base.bytes)}, ` +
      `render p50 ${ratio(quantile(figures.renders, 0.5), quantile(base.renders, 0.5))}, ` +
      `server render p50 ${ratio(quantile(figures.serverRenders, 0.5), quantile(base.serverRenders, 0.5))}`,
  );
  console.log(`Vigil lines of the families the attack reaches: ${attacked}`);
  const scrapes = ascending(storm.scrapes.map((s) => s.ms));
  console.log(`metrics: Vigil, ${SCRAPERS} scrapes at once after the cache expired, ${rounds} round(s)`);
  console.table([
    {
      scrapes: scrapes.length,
      'scrape p50 ms': quantile(scrapes, 0.5),
      'scrape max ms': quantile(scrapes, 1),
      'healthz probes': storm.health.length,
      'healthz p50 ms': quantile(storm.health, 0.5),
      'healthz max ms': quantile(storm.health, 1),
    },
  ]);
  console.log(
    `(not run on the baseline: uncached, each of its scrapes renders on its own, one render taking ` +
      `${(quantile(base.renders, 0.5) / 1000).toFixed(1)} s above)`,
  );
  const linesOk = figures.lines < 10_000;
  const renderOk = quantile(figures.renders, 0.5) < 100;
  console.log(
    `target: < 10,000 lines ${linesOk ? 'met' : 'MISSED'} (${thousands(figures.lines)}); ` +
      `render < 100 ms ${renderOk ? 'met' : 'MISSED'} (scrape p50 ${quantile(figures.renders, 0.5)} ms of ` +
      `${figures.renders.length}, max ${quantile(figures.renders, 1)} ms; in the server p50 ` +
      `${quantile(figures.serverRenders, 0.5)} ms)`,
  );
}

// ------------------------------------------------------------------------------------------------------------
// 2. Slow bodies

interface Answer {
  status: number;
  ms: number;
}

/** One POST on a keep-alive agent: its status (0 for a failure) and latency. */
function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        res.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

/** A closed loop of `POST /v1/events` (50 events a body) on 32 connections for `seconds`. */
async function eventLoad(url: string, key: string, seconds: number): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: LOAD_CONNECTIONS });
  const target = new URL('/v1/events', url);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const body = bodies('realistic');
  const answers: Answer[] = [];
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) answers.push(await post(agent, target, headers, body()));
  };
  await Promise.all(Array.from({ length: LOAD_CONNECTIONS }, worker));
  agent.destroy();
  return answers;
}

function loadRow(name: string, answers: Answer[], seconds: number) {
  const of = (status: number) => ascending(answers.filter((a) => a.status === status).map((a) => a.ms));
  const accepted = of(202);
  const refused = of(503);
  const share = (n: number) => `${((100 * n) / Math.max(1, answers.length)).toFixed(1)}%`;
  return {
    load: name,
    requests: answers.length,
    '202/s': Math.round(accepted.length / seconds),
    '202 share': share(accepted.length),
    '503 share': share(refused.length),
    other: answers.length - accepted.length - refused.length,
    '202 p50 ms': quantile(accepted, 0.5),
    '202 p99 ms': quantile(accepted, 0.99),
    '503 p50 ms': refused.length === 0 ? '-' : quantile(refused, 0.5),
    '503 p99 ms': refused.length === 0 ? '-' : quantile(refused, 0.99),
  };
}

interface SlowSocket {
  /** The status the server answered, 0 for none. */
  status: number;
  /** From the last byte sent to the answer / to the close, in ms (undefined: not yet). */
  answeredMs?: number;
  closedMs?: number;
  socket: net.Socket;
}

/** Opens a socket that sends a request's headers and 2 bytes of its 1,000,000-byte body, then nothing. */
function openSlowSocket(port: number, appKey: string): Promise<SlowSocket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const slow: SlowSocket = { status: 0, socket };
    let sentAt = 0;
    socket.once('connect', () => {
      socket.write(
        `POST /collect/${appKey} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${SLOW_CONTENT_LENGTH}\r\n\r\n{"`,
        () => {
          sentAt = performance.now();
          resolve(slow);
        },
      );
    });
    socket.once('data', (chunk: Buffer) => {
      slow.answeredMs = performance.now() - sentAt;
      slow.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0);
    });
    socket.on('data', () => {});
    socket.once('error', () => {});
    socket.once('close', () => {
      slow.closedMs = performance.now() - sentAt;
      resolve(slow);
    });
  });
}

function slowRows(sockets: SlowSocket[]) {
  const groups = new Map<string, SlowSocket[]>();
  for (const s of sockets) {
    const outcome =
      s.status !== 0
        ? `answered ${s.status}`
        : s.closedMs !== undefined
          ? 'closed, no answer'
          : 'still open (closed by us)';
    groups.set(outcome, [...(groups.get(outcome) ?? []), s]);
  }
  return [...groups.entries()].map(([outcome, group]) => {
    const answered = ascending(group.flatMap((s) => (s.answeredMs === undefined ? [] : [s.answeredMs])));
    const closed = ascending(group.flatMap((s) => (s.closedMs === undefined ? [] : [s.closedMs])));
    return {
      outcome,
      sockets: group.length,
      'answered p50 ms': answered.length === 0 ? '-' : quantile(answered, 0.5),
      'answered max ms': answered.length === 0 ? '-' : quantile(answered, 1),
      'closed p50 ms': closed.length === 0 ? '-' : quantile(closed, 0.5),
      'closed max ms': closed.length === 0 ? '-' : quantile(closed, 1),
    };
  });
}

async function slowBodies(seconds: number): Promise<void> {
  // Passed through when set, so that another timeout can be measured; the server's default otherwise.
  const idleSetting = process.env.VIGIL_BODY_IDLE_TIMEOUT_MS;
  const set: Record<string, string> = idleSetting ? { VIGIL_BODY_IDLE_TIMEOUT_MS: idleSetting } : {};
  const idleMs = Number(idleSetting ?? 5000);
  // The load runs while the slow sockets the server keeps are open: within the body-idle timeout.
  const loadSeconds = Math.max(1, Math.min(seconds, Math.floor(idleMs / 1000) - 1));

  // One server, the baseline load before and after the attack's (the machine drifts: both sides of it count).
  const vigil = await startVigil(set);
  const sockets: SlowSocket[] = [];
  let before: Answer[];
  let during: Answer[];
  let after: Answer[];
  let openMs: number;
  try {
    await eventLoad(vigil.url, vigil.info.ingestKey, 1);
    before = await eventLoad(vigil.url, vigil.info.ingestKey, loadSeconds);
    const opening = performance.now();
    for (let i = 0; i < SLOW_SOCKETS; i += 50) {
      const count = Math.min(50, SLOW_SOCKETS - i);
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: count }, () => openSlowSocket(vigil.info.port, vigil.info.appKey)),
        )),
      );
    }
    openMs = performance.now() - opening;
    during = await eventLoad(vigil.url, vigil.info.ingestKey, loadSeconds);
    // Until the server has answered or closed every one (its request timeout, 60 s, bounds that), 70 s at most.
    const waitUntil = performance.now() + 70_000;
    while (sockets.some((s) => s.closedMs === undefined) && performance.now() < waitUntil) await sleep(100);
    after = await eventLoad(vigil.url, vigil.info.ingestKey, loadSeconds);
  } finally {
    for (const s of sockets) s.socket.destroy();
    await vigil.stop();
  }

  console.log(
    `\nmetrics: slow-body attack: ${SLOW_SOCKETS} sockets on POST /collect/<appKey> (opened in ${Math.round(openMs)} ms), ` +
      `body-idle timeout ${idleMs} ms${idleSetting ? ' (VIGIL_BODY_IDLE_TIMEOUT_MS)' : ' (default)'}; ` +
      `closed loop of POST /v1/events (${EVENTS_PER_BODY} events a body, ${LOAD_CONNECTIONS} connections, ` +
      `${loadSeconds} s) before, during and after, on one server`,
  );
  const baseRow = loadRow('no slow sockets (before + after)', [...before, ...after], 2 * loadSeconds);
  const attackRow = loadRow(`${SLOW_SOCKETS} slow sockets open`, during, loadSeconds);
  console.table([
    loadRow('no slow sockets (before)', before, loadSeconds),
    attackRow,
    loadRow('no slow sockets (after)', after, loadSeconds),
    baseRow,
  ]);
  console.log(
    `ratio (slow sockets / before + after): 202/s ${ratio(attackRow['202/s'], baseRow['202/s'])}, ` +
      `202 p50 ${ratio(attackRow['202 p50 ms'], baseRow['202 p50 ms'])}, ` +
      `202 p99 ${ratio(attackRow['202 p99 ms'], baseRow['202 p99 ms'])}`,
  );
  console.log('metrics: how long the server held the slow sockets (from their 2 bytes of body)');
  console.table(slowRows(sockets));
}

export async function run(options: { seconds: number }): Promise<void> {
  await cardinality(options.seconds);
  await slowBodies(options.seconds);
}
