// `npm run bench [-- <name> ...]`: runs the named benchmarks, or all of them. Never part of `npm test`.
import { parseArgs } from 'node:util';

const BENCHMARKS: Record<string, (options: { seconds: number }) => Promise<void>> = {
  http: async (options) => (await import('./http.ts')).run(options),
  ingest: async (options) => (await import('./ingest.ts')).run(options),
  'event-store': async () => (await import('./event-store.ts')).run(),
  consent: async (options) => (await import('./consent.ts')).run(options),
  erasure: async (options) => (await import('./erasure.ts')).run(options),
  fraud: async () => (await import('./fraud.ts')).run(),
  metrics: async (options) => (await import('./metrics.ts')).run(options),
  traffic: async () => (await import('./traffic.ts')).run(),
  review: async () => (await import('./review.ts')).run(),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '10' } },
});
const names = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (bench) await bench({ seconds: Number(values.seconds) });
}
