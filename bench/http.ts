// The cost of Vigil's request pipeline (request id, security headers, metrics, API-key auth, validation,
// a SQLite read, problem handling) against bare Hono answering the same JSON from memory. Both servers run in
// one child process, measured in turn by autocannon from this process; the ratio is what to compare across
// runs, since absolute figures drift on a shared machine.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Result {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(
  name: string,
  url: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<Result> {
  const result = await autocannon({ url, headers, connections: 32, duration: seconds });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export async function run(options: { seconds: number }): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/targets/http-target.ts'), dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const ports = await new Promise<{ vigil: number; bare: number; key: string }>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
      child.once('exit', (code) => reject(new Error(`benchmark target exited with ${code}`)));
    });
    const auth = { authorization: `Bearer ${ports.key}` };
    // Warm both up (JIT, SQLite page cache) before measuring.
    await measure('warm-up', `http://127.0.0.1:${ports.vigil}/v1/audit?limit=10`, auth, 1);
    await measure('warm-up', `http://127.0.0.1:${ports.bare}/v1/audit`, {}, 1);
    const bare = await measure(
      'bare Hono, JSON from memory',
      `http://127.0.0.1:${ports.bare}/v1/audit`,
      {},
      options.seconds,
    );
    const vigil = await measure(
      'Vigil GET /v1/audit?limit=10 (auth + SQLite)',
      `http://127.0.0.1:${ports.vigil}/v1/audit?limit=10`,
      auth,
      options.seconds,
    );
    console.log('\nhttp: request pipeline cost');
    console.table(
      [bare, vigil].map((r) => ({
        target: r.name,
        'req/s': Math.round(r.requestsPerSecond),
        'p50 ms': r.p50,
        'p99 ms': r.p99,
        errors: r.errors,
      })),
    );
    console.log(`ratio (Vigil / bare): ${(vigil.requestsPerSecond / bare.requestsPerSecond).toFixed(3)}`);
    if (vigil.errors > 0 || bare.errors > 0) throw new Error('requests failed during the benchmark');
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
