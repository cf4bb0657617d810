// The cost of Vigil's request pipeline (request id, security headers, metrics, API-key auth, validation,
// a SQLite read, problem handling) against bare Hono answering the same JSON from memory.
import { measure, startTarget } from './harness.ts';

export async function run(options: { seconds: number }): Promise<void> {
  const target = await startTarget();
  try {
    const auth = { authorization: `Bearer ${target.keys.dpo}` };
    const vigilUrl = `${target.vigil}/v1/audit?limit=10`;
    const bareUrl = `${target.bare}/v1/audit`;
    await measure('warm-up', { url: vigilUrl, headers: auth, duration: 1 });
    await measure('warm-up', { url: bareUrl, duration: 1 });
    const bare = await measure('bare Hono, JSON from memory', { url: bareUrl, duration: options.seconds });
    const vigil = await measure('Vigil GET /v1/audit?limit=10', {
      url: vigilUrl,
      headers: auth,
      duration: options.seconds,
    });
    console.log('\nhttp: request pipeline cost (32 connections)');
    console.table(
      [bare, vigil].map((r) => ({
        target: r.name,
        'req/s': Math.round(r.requestsPerSecond),
        'p50 ms': r.p50,
        'p99 ms': r.p99,
        failures: r.failures,
      })),
    );
    console.log(`ratio (Vigil / bare): ${(vigil.requestsPerSecond / bare.requestsPerSecond).toFixed(3)}`);
    if (vigil.failures > 0 || bare.failures > 0) throw new Error('requests failed during the benchmark');
  } finally {
    await target.stop();
  }
}
