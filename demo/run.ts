// `npm run demo`: fills Vigil's review queue with a simulated influencer campaign, so a new user sees what the
// fraud analysts see. Without arguments it starts a Vigil of its own on a temporary data directory and keeps it
// running until Ctrl-C; with `--url <base> --key <admin key>` it fills a Vigil that is already running, and exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type FillSummary, fillCampaign } from './fill-campaign.ts';
import { createVigilClient } from './vigil-client.ts';
import { createKeys, startVigil, type VigilProcess } from './vigil-process.ts';

const USAGE = `Usage:
  npm run demo [-- --port <n>] [--seed <n>]
      starts Vigil on a temporary data directory, fills it, and keeps it running until Ctrl-C
  npm run demo -- --url <base URL> --key <admin key> [--seed <n>]
      fills a running Vigil and exits`;

const DEFAULT_SEED = 7;
const DEFAULT_PORT = 8080;
/** The fewest flagged or held payouts that make a review queue worth showing. */
const MIN_IN_REVIEW = 3;
/** How long the server may take to stop cleanly before it is killed. */
const STOP_TIMEOUT_MS = 20_000;

/** A mistake in the command line: said with the usage, exit code 2. */
class UsageError extends Error {}

function wholeNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max)
    throw new UsageError(`--${name} expects a whole number up to ${max}, got "${text}"`);
  return value;
}

const OPTIONS = {
  port: { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandLine(argv: string[]) {
  const values = (() => {
    try {
      return parseArgs({ args: argv, options: OPTIONS }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  })();
  if (values.url !== undefined && !values.key) throw new UsageError('--url needs --key <admin key>');
  if (values.key !== undefined && values.url === undefined)
    throw new UsageError('--key goes with --url <base URL>');
  if (values.url !== undefined && values.port !== undefined)
    throw new UsageError('--port starts a Vigil of its own; --url fills one that is already running');
  if (values.url !== undefined && !/^https?:\/\/[^\s/]+/.test(values.url))
    throw new UsageError(`--url expects a base URL such as http://127.0.0.1:8080, got "${values.url}"`);
  return {
    help: values.help === true,
    url: values.url,
    key: values.key,
    port: wholeNumber('port', values.port, DEFAULT_PORT, 65_535),
    seed: wholeNumber('seed', values.seed, DEFAULT_SEED, 2 ** 31),
  };
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function printSummary(
  summary: FillSummary,
  seed: number,
  where: { baseUrl: string; analystKey: string; adminKey: string; dataDir: string },
): void {
  const { decisions, review } = summary;
  const out = [
    '',
    `Filled Vigil with a simulated influencer campaign (seed ${seed}) in ${summary.seconds.toFixed(1)} s:`,
    `  ${summary.creators.length} creators, ${summary.events.toLocaleString('en')} clicks, sales and refunds,` +
      ` payouts for ${day(summary.periodStart)} to ${day(summary.periodEnd)}`,
    `  ${decisions.flagged} payouts flagged and ${decisions.held} held for review, ${decisions.approved} approved`,
    '',
    ...review.map(
      (r) =>
        `  ${r.decision.padEnd(8)} ${r.creator.padEnd(18)} ${r.amount.toFixed(2).padStart(8)} EUR` +
        `  risk ${r.risk.toFixed(2)}  ${r.reasons.join(', ')}`,
    ),
    '',
    `Review queue:  ${where.baseUrl}/review`,
    `Analyst key:   ${where.analystKey}`,
    `               (paste it into the sign-in page's "API key" field)`,
    `Admin key:     ${where.adminKey}`,
    `Data dir:      ${where.dataDir}`,
    `The flags as JSON: curl -H 'authorization: Bearer ${where.analystKey}' ${where.baseUrl}/v1/flags`,
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

function checkReviewQueue(summary: FillSummary): void {
  const inReview = summary.decisions.flagged + summary.decisions.held;
  if (inReview < MIN_IN_REVIEW) {
    throw new Error(
      `only ${inReview} payouts were flagged or held, and the demo needs at least ${MIN_IN_REVIEW}: ` +
        "the detector's rules or model may differ from those the campaign was made for",
    );
  }
}

/** `--url`: a key to ingest with and one to review with, made by the admin key; the ingest key is revoked after. */
async function fillRunningVigil(baseUrl: string, adminKey: string, seed: number): Promise<void> {
  const client = createVigilClient(baseUrl);
  const suffix = Date.now().toString(36);
  const createKey = async (role: 'ingest' | 'analyst') =>
    (
      await client.send<{ key: string }>('POST', '/v1/keys', adminKey, {
        name: `demo-${role}-${suffix}`,
        role,
      })
    ).key;
  const ingest = await createKey('ingest');
  const analyst = await createKey('analyst');
  let summary: FillSummary;
  try {
    summary = await fillCampaign(client, { admin: adminKey, ingest }, { seed });
  } finally {
    await client.send('POST', `/v1/keys/demo-ingest-${suffix}/revoke`, adminKey).catch((error: Error) => {
      process.stderr.write(
        `demo: could not revoke the demo's ingest key demo-ingest-${suffix}: ${error.message}\n`,
      );
    });
  }
  printSummary(summary, seed, {
    baseUrl: client.baseUrl,
    analystKey: analyst,
    adminKey: '(the one given with --key)',
    dataDir: "(the running Vigil's own)",
  });
  checkReviewQueue(summary);
}

/** Stops the server (SIGTERM, then SIGKILL past the timeout) and removes its data directory. */
async function stopVigil(vigil: VigilProcess | undefined, dataDir: string): Promise<void> {
  if (vigil && vigil.child.exitCode === null && vigil.child.signalCode === null) {
    // SIGTERM, whatever the demo received: a Ctrl-C in the terminal has already sent the server its own SIGINT,
    // and a second SIGINT would cut its clean shutdown short.
    vigil.child.kill('SIGTERM');
    const timer = setTimeout(() => vigil.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await vigil.exited;
    clearTimeout(timer);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

/** No arguments: a Vigil of the demo's own, filled, running until SIGINT or SIGTERM. */
async function runOwnVigil(port: number, seed: number): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-'));
  let vigil: VigilProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= stopVigil(vigil, dataDir).then(() => process.exit(code));
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stdout.write(`\n${signal}: stopping Vigil and removing ${dataDir}\n`);
    void stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const keys = await createKeys(dataDir, ['admin', 'analyst', 'ingest']);
    process.stdout.write(`Starting Vigil on port ${port} with data in ${dataDir} ...\n`);
    vigil = startVigil({ dataDir, port });
    const running = vigil;
    const baseUrl = await running.ready;
    void running.exited.then(({ code, signal }) => {
      if (stopping) return;
      process.stderr.write(
        `demo: Vigil stopped on its own (${signal ?? `exit code ${code}`}); its last log lines:\n${running.lastLogs()}\n`,
      );
      void stop(1);
    });
    const client = createVigilClient(baseUrl);
    process.stdout.write('Filling it with a simulated influencer campaign ...\n');
    const summary = await fillCampaign(client, keys, { seed });
    printSummary(summary, seed, {
      baseUrl,
      analystKey: keys.analyst,
      adminKey: keys.admin,
      dataDir: `${dataDir} (removed when the demo stops)`,
    });
    checkReviewQueue(summary);
    process.stdout.write('Vigil keeps running. Press Ctrl-C to stop it.\n');
  } catch (error) {
    if (stopping) return;
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    await stop(1);
  }
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseCommandLine>;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (options.url !== undefined && options.key !== undefined) {
    try {
      await fillRunningVigil(options.url, options.key, options.seed);
    } catch (error) {
      process.stderr.write(`demo: ${(error as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  await runOwnVigil(options.port, options.seed);
}

await main();
