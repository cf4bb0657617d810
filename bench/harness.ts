import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The Node.js flags `npm start` gives the server: a young generation of 64 MiB per semi-space instead of 16,
 * so that the garbage of each request (its parsed body, rows and entry text, ~0.5 MB per 50 events) is
 * scavenged a quarter as often; under the ingest benchmark the request thread's minor GC time fell from
 * 0.76 s to 0.31 s.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

/** VIGIL_BENCH_CPU_PROF=<dir>: V8 CPU profiles of a server's threads, written to <dir> when it stops. */
export function cpuProfileFlags(): string[] {
  const dir = process.env.VIGIL_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** Ends a server process and waits until it is gone (killed after 5 s). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** The benchmark server process: Vigil and the bare baseline, on their own ports. */
export interface Target {
  vigil: string;
  bare: string;
  keys: { dpo: string; ingest: string };
  dataDir: string;
  /** The server process, for its CPU time. */
  pid: number;
  /** Ends the server process and waits until it is gone (killed after 5 s), then deletes its data. */
  stop(): Promise<void>;
}

/** Starts `bench/target.ts` in a child process, so that load generation and serving do not share a thread. */
/** Starts the benchmark target; `env` reaches its process (`BENCH_DATABASE_URL` puts it on PostgreSQL). */
export async function startTarget(env: Record<string, string> = {}): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const child = spawn(
    process.execPath,
    [
      ...cpuProfileFlags(),
      // As `npm start` runs the server (package.json).
      ...SERVER_NODE_FLAGS,
      '--import',
      'tsx',
      path.join(ROOT, 'bench/target.ts'),
      dataDir,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const info = await new Promise<{ vigil: number; bare: number; keys: Target['keys'] }>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
    child.once('exit', (code) => reject(new Error(`benchmark target exited with ${code}`)));
  });
  return {
    vigil: `http://127.0.0.1:${info.vigil}`,
    bare: `http://127.0.0.1:${info.bare}`,
    keys: info.keys,
    dataDir,
    pid: child.pid as number,
    async stop() {
      await stopProcess(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One autocannon measurement. */
export interface Measurement {
  name: string;
  requestsPerSecond: number;
  /** Requests answered in all. */
  requests: number;
  /** Requests answered 2xx: for a write route, what was acknowledged (a 503 under overload is not). */
  ok: number;
  /** `requestsPerSecond` counting 2xx answers only. */
  okPerSecond: number;
  /** Answers 503 (with `Retry-After`): refused under overload, as designed; also counted in `failures`. */
  refused: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU seconds the server process used (all its threads), when its pid was given and /proc can tell. */
  serverCpuSeconds?: number;
  /** CPU seconds this process (the load generator) used. */
  loadCpuSeconds: number;
}

/** User + system CPU seconds of a process, all threads, from /proc (Linux); undefined elsewhere. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export async function measure(
  name: string,
  options: autocannon.Options,
  serverPid?: number,
): Promise<Measurement> {
  const serverBefore = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const loadBefore = process.cpuUsage();
  const result = await autocannon({ connections: 32, ...options });
  const load = process.cpuUsage(loadBefore);
  const serverAfter = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  return {
    name,
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    ok: result.requests.total - result.non2xx,
    refused: result.statusCodeStats?.['503']?.count ?? 0,
    okPerSecond:
      result.requests.total === 0
        ? 0
        : (result.requests.average * (result.requests.total - result.non2xx)) / result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.non2xx,
    serverCpuSeconds:
      serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore,
    loadCpuSeconds: (load.user + load.system) / 1e6,
  };
}

/**
 * An open-loop load at a steady rate: request i is due at start + i / rate and is sent then, whether or not
 * earlier ones have been answered, and its latency counts from when it was due (so a stall is not hidden by
 * the requests it held back). autocannon's rate limit releases each second's requests in a burst, which
 * measures that burst's queueing rather than the latency at the rate.
 */
export async function paced(
  name: string,
  options: {
    url: string;
    headers: Record<string, string>;
    body: () => string;
    rate: number;
    seconds: number;
  },
): Promise<{ name: string; rate: number; p50: number; p99: number; max: number; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const total = Math.round(options.rate * options.seconds);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      fetch(options.url, { method: 'POST', headers: options.headers, body: options.body() })
        .then(async (res) => {
          await res.arrayBuffer();
          if (!res.ok) failures += 1;
          latencies.push(performance.now() - due);
        })
        .catch(() => {
          failures += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { name, rate: options.rate, p50: at(0.5), p99: at(0.99), max: at(1), failures };
}
