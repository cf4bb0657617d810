// `npm run eval [-- <name> ...]`: detector evaluations against reference data. Never part of `npm test`.
const EVALUATIONS: Record<string, () => Promise<void>> = {
  iforest: async () => (await import('./iforest.ts')).run(),
  fraud: async () => (await import('./fraud.ts')).run(),
  traffic: async () => (await import('./traffic.ts')).run(),
};

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(EVALUATIONS);
const unknown = names.filter((n) => !(n in EVALUATIONS));
if (unknown.length > 0) {
  console.error(
    `unknown evaluation(s): ${unknown.join(', ')}; known: ${Object.keys(EVALUATIONS).join(', ')}`,
  );
  process.exit(2);
}
for (const name of names) await EVALUATIONS[name]?.();
