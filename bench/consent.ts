// The consent gate's cost. 1) Lookups per second with 1,000,000 subjects loaded from the ledger's state table,
// against a bare Map.get of the same keys. 2) Faro ingestion throughput with the gate on and off, two otherwise
// identical servers in one child process, measured by autocannon in turn.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { ConsentGate, loadGatePolicy, loadPurposes } from '../consent/index.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';
import { type Measurement, measure } from './harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUBJECTS = 1_000_000;
const LOOKUPS = 5_000_000;

async function gateLookups(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-consent-'));
  const storage = openSqlite(dir);
  try {
    await migrateToLatest(storage.db);
    const sqlite = storage.sqlite;
    sqlite
      .prepare(
        `insert into consent_records (subject_id, kind, decisions, policy_version, source, collected_at, recorded_at,
           actor, prev_hash, hash) values ('seed', 'consent', '{}', 'v1', 'import', ?, ?, 'bench', '0', 'seed')`,
      )
      .run(new Date().toISOString(), new Date().toISOString());
    const insert = sqlite.prepare(
      `insert into consent_state (subject_id, purpose, status, since, policy_version, expires_at, record_id)
       values (?, 'analytics', ?, ?, 'v1', ?, 1)`,
    );
    const since = new Date().toISOString();
    const expires = new Date(Date.now() + 365 * 86_400_000).toISOString();
    sqlite.transaction(() => {
      for (let i = 0; i < SUBJECTS; i += 1)
        insert.run(`subject-${i}`, i % 3 === 0 ? 'denied' : 'granted', since, expires);
    })();

    const purposes = loadPurposes();
    const gate = new ConsentGate(purposes, loadGatePolicy(purposes), new Registry());
    const loadStarted = performance.now();
    const loaded = await gate.load(storage.db);
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const keys = Array.from({ length: 65_536 }, (_, i) => `subject-${(i * 7919) % SUBJECTS}`);
    const baseline = new Map<string, number>();
    for (let i = 0; i < SUBJECTS; i += 1) baseline.set(`subject-${i}`, i);
    const now = Date.now();
    const time = (fn: (key: string) => unknown) => {
      let sink = 0;
      const started = performance.now();
      for (let i = 0; i < LOOKUPS; i += 1) if (fn(keys[i & 65_535] as string)) sink += 1;
      return { perSecond: LOOKUPS / ((performance.now() - started) / 1000), sink };
    };
    time((k) => baseline.get(k)); // warm-up
    time((k) => gate.decide('browser_telemetry', k, now));
    const bare = time((k) => baseline.get(k));
    const decide = time((k) => gate.decide('browser_telemetry', k, now).action === 'keep');
    const granted = time((k) => gate.granted(k, 'analytics', now));
    console.log(
      `\nconsent gate: ${loaded.toLocaleString()} subjects loaded from consent_state in ${loadSeconds.toFixed(2)} s`,
    );
    console.table([
      { lookup: 'Map.get (baseline)', 'per second': Math.round(bare.perSecond).toLocaleString() },
      {
        lookup: 'gate.decide (with its counter)',
        'per second': Math.round(decide.perSecond).toLocaleString(),
      },
      { lookup: 'gate.granted', 'per second': Math.round(granted.perSecond).toLocaleString() },
    ]);
    console.log(`ratio (gate.decide / Map.get): ${(decide.perSecond / bare.perSecond).toFixed(3)}`);
    console.log(`memory: ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB heap in use`);
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function ingestWithAndWithoutGate(seconds: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-consent-ingest-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/consent-target.ts'), dir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const info = await new Promise<{
      on: { port: number; key: string };
      off: { port: number; key: string };
      subjects: number;
    }>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
      child.once('exit', (code) => reject(new Error(`benchmark target exited with ${code}`)));
    });
    const sample = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'test/fixtures/faro-payload-sample.json'), 'utf8'),
    ) as {
      meta: Record<string, unknown>;
    };
    let n = 0;
    const options = (target: { port: number; key: string }) => ({
      url: `http://127.0.0.1:${target.port}/collect/${target.key}`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', origin: 'https://shop.bench' },
      requests: [
        {
          setupRequest: (req: object) => {
            sample.meta.user = { id: `u-${n++ % info.subjects}` };
            return { ...req, body: JSON.stringify(sample) };
          },
        },
      ],
    });
    await measure('warm-up', { ...options(info.off), duration: 1 });
    await measure('warm-up', { ...options(info.on), duration: 1 });
    // Off, on, on, off: each side gets one early and one late slot, so warming up does not favour either.
    const half = Math.max(1, Math.round(seconds / 2));
    const runs: Measurement[] = [];
    for (const [name, target] of [
      ['gate off', info.off],
      ['gate on', info.on],
      ['gate on', info.on],
      ['gate off', info.off],
    ] as const) {
      runs.push(await measure(name, { ...options(target), duration: half }));
    }
    const average = (name: string) => {
      const mine = runs.filter((r) => r.name === name);
      return {
        name,
        requestsPerSecond: mine.reduce((sum, r) => sum + r.requestsPerSecond, 0) / mine.length,
        p50: Math.max(...mine.map((r) => r.p50)),
        p99: Math.max(...mine.map((r) => r.p99)),
        failures: mine.reduce((sum, r) => sum + r.failures, 0),
      };
    };
    const off = average('gate off');
    const on = average('gate on');
    console.log(
      '\nFaro ingestion (5 items per payload, every subject consented), 32 connections, off/on/on/off',
    );
    console.table(
      [off, on].map((r) => ({
        target: r.name,
        'payloads/s': Math.round(r.requestsPerSecond),
        'p50 ms (worst)': r.p50,
        'p99 ms (worst)': r.p99,
        failures: r.failures,
      })),
    );
    const cost = 1 - on.requestsPerSecond / off.requestsPerSecond;
    console.log(
      `gate cost: ${(cost * 100).toFixed(1)}% of throughput (target: under 5%; run-to-run noise is of the same order)`,
    );
    if (on.failures > 0 || off.failures > 0) throw new Error('requests failed during the benchmark');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(options: { seconds: number }): Promise<void> {
  await gateLookups();
  await ingestWithAndWithoutGate(options.seconds);
}
