import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiKey, listApiKeys, revokeApiKey } from '../http/api-keys.ts';
import { ProblemError } from '../http/problem.ts';
import { isRole, ROLES } from '../http/roles.ts';
import { createFaroApp, listFaroApps, revokeFaroApp } from '../ingest/faro/index.ts';
import { listDeliveries, removeWebhook, replayDeliveries, setWebhook } from '../review/webhook-admin.ts';
import { webhookEndpoint } from '../review/webhooks.ts';
import { type Actor, isDomainError, migrateToLatest, NotFoundError, type Storage } from '../storage/index.ts';
import { ConfigError, loadConfig } from './env.ts';
import { openStorage } from './open-storage.ts';
import { KeyNameSchema } from './routes/keys.ts';

const USAGE = `usage: vigil <command>

  keys create --role <${ROLES.join('|')}> --name <name>
                         create an API key; the key is printed alone on the last line
  keys list [--all]      list live keys (--all: revoked ones too)
  keys revoke <name>     revoke the live key with this name
  apps create --name <name> --origin <origin> [--origin <origin> ...]
                         register a browser app for Faro telemetry; its key is printed alone on the last line
  apps list [--all]      list live apps and their origins
  apps revoke <name>     revoke the live app with this name
  webhook set --url <url>
                         post payout decisions to this http(s) URL; the signing secret is printed alone on the
                         last line, once (setting the URL again makes a new secret)
  webhook show           show the webhook's URL
  webhook remove         stop posting decisions; events wait in the outbox until a webhook is set again
  webhook deliveries [--failed] [--limit <n>]
                         list the newest webhook events (--failed: only those given up) with their delivery state
  webhook replay <event id> | --failed
                         send an event again (even a delivered one), or every failed one, at the next poll

Honours VIGIL_DATA_DIR like the server.`;

/** Thrown for a command line that does not parse; answered with the usage and exit code 2. */
class UsageError extends Error {}

/** Writes what the CLI prints; injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Changes made from the command line are audited under the operating-system user who ran it. */
function cliActor(): Actor {
  return { name: `cli:${os.userInfo().username}`, role: 'operator' };
}

function validName(value: string | undefined): string {
  const parsed = KeyNameSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`--name: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/**
 * Opens the database the environment names, migrated, for one command; closes it afterwards. Without
 * `VIGIL_DATA_DIR` it says (on stderr, so a printed key stays alone on stdout's last line) which directory it
 * took, since `./data` depends on where the command runs.
 */
async function withStorage(
  env: Record<string, string | undefined>,
  io: CliIo,
  command: (storage: Storage) => Promise<void>,
): Promise<void> {
  const config = loadConfig(env);
  if (config.databaseUrl === undefined && !env.VIGIL_DATA_DIR) {
    io.err(
      `vigil: using the data directory ${path.resolve(config.dataDir)} (set VIGIL_DATA_DIR to use another)`,
    );
  }
  const storage = await openStorage(config);
  try {
    await migrateToLatest(storage.db);
    await command(storage);
  } finally {
    await storage.close();
  }
}

async function runKeys(args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { role: { type: 'string' }, name: { type: 'string' }, all: { type: 'boolean', default: false } },
  });
  const [action, ...rest] = positionals;
  await withStorage(env, io, async (storage) => {
    switch (action) {
      case 'create': {
        const role = values.role ?? '';
        if (!isRole(role)) throw new UsageError(`--role: expected one of ${ROLES.join(', ')}`);
        const { key, info } = await createApiKey(
          storage.db,
          { name: validName(values.name), role },
          cliActor(),
          new Date(),
        );
        io.out(`created ${info.role} key "${info.name}" (id ${info.id}); it is shown once, store it now:`);
        io.out(key);
        return;
      }
      case 'list': {
        const keys = await listApiKeys(storage.db, { includeRevoked: values.all });
        io.out(['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'].join('\t'));
        for (const k of keys) io.out([k.id, k.name, k.role, k.createdAt, k.revokedAt ?? '-'].join('\t'));
        return;
      }
      case 'revoke': {
        if (rest.length !== 1) throw new UsageError('keys revoke takes one key name');
        const info = await revokeApiKey(storage.db, validName(rest[0]), cliActor(), new Date());
        io.out(`revoked ${info.role} key "${info.name}" (id ${info.id})`);
        return;
      }
      default:
        throw new UsageError(action ? `unknown keys command "${action}"` : 'keys needs a command');
    }
  });
}

async function runApps(args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
    },
  });
  const [action, ...rest] = positionals;
  await withStorage(env, io, async (storage) => {
    switch (action) {
      case 'create': {
        if (!values.name) throw new UsageError('apps create needs --name');
        if (!values.origin || values.origin.length === 0)
          throw new UsageError('apps create needs at least one --origin');
        const { key, app } = await createFaroApp(
          storage.db,
          { name: values.name, origins: values.origin },
          cliActor(),
          new Date(),
        );
        io.out(
          `created app "${app.name}" (id ${app.id}) for ${app.origins.join(', ')}; its key is shown once:`,
        );
        io.out(key);
        return;
      }
      case 'list': {
        const apps = await listFaroApps(storage.db, { includeRevoked: values.all });
        io.out(['ID', 'NAME', 'ORIGINS', 'CREATED', 'REVOKED'].join('\t'));
        for (const a of apps)
          io.out([a.id, a.name, a.origins.join(','), a.createdAt, a.revokedAt ?? '-'].join('\t'));
        return;
      }
      case 'revoke': {
        if (rest.length !== 1 || rest[0] === undefined)
          throw new UsageError('apps revoke takes one app name');
        const app = await revokeFaroApp(storage.db, rest[0], cliActor(), new Date());
        io.out(`revoked app "${app.name}" (id ${app.id})`);
        return;
      }
      default:
        throw new UsageError(action ? `unknown apps command "${action}"` : 'apps needs a command');
    }
  });
}

const DELIVERIES_LIMIT = { default: 20, max: 1000 };

function deliveriesLimit(value: string | undefined): number {
  if (value === undefined) return DELIVERIES_LIMIT.default;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > DELIVERIES_LIMIT.max)
    throw new UsageError(`--limit: expected a whole number from 1 to ${DELIVERIES_LIMIT.max}`);
  return limit;
}

/** One table cell: an error message may hold tabs or line breaks. */
function cell(value: string | null): string {
  return value === null ? '-' : value.replace(/\s+/g, ' ');
}

async function runWebhook(args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      failed: { type: 'boolean', default: false },
      limit: { type: 'string' },
    },
  });
  const [action, ...rest] = positionals;
  await withStorage(env, io, async (storage) => {
    switch (action) {
      case 'set': {
        if (values.url === undefined) throw new UsageError('webhook set needs --url');
        const endpoint = await setWebhook(storage.db, values.url, cliActor(), new Date());
        io.out(`payout decisions are posted to ${endpoint.url}`);
        io.out(
          'each delivery is signed with this secret (vigil-signature header); it is shown once, store it now:',
        );
        io.out(endpoint.secret);
        return;
      }
      case 'show': {
        const endpoint = await webhookEndpoint(storage.db);
        if (!endpoint) throw new NotFoundError('no webhook is set');
        io.out(endpoint.url);
        return;
      }
      case 'remove': {
        const url = await removeWebhook(storage.db, cliActor(), new Date());
        io.out(`removed the webhook ${url}`);
        return;
      }
      case 'deliveries': {
        const deliveries = await listDeliveries(storage.db, {
          status: values.failed ? 'failed' : undefined,
          limit: deliveriesLimit(values.limit),
        });
        io.out(['ID', 'STATUS', 'ATTEMPTS', 'LAST ERROR', 'NEXT ATTEMPT', 'CREATED'].join('\t'));
        for (const d of deliveries) {
          const next = d.status === 'pending' ? d.nextAttemptAt : null;
          io.out([d.id, d.status, String(d.attempts), cell(d.lastError), cell(next), d.createdAt].join('\t'));
        }
        return;
      }
      case 'replay': {
        const [id, ...more] = rest;
        if (values.failed === (id !== undefined) || more.length > 0)
          throw new UsageError('webhook replay takes one event id, or --failed');
        const replayed = await replayDeliveries(
          storage.db,
          id === undefined ? { failed: true } : { id },
          cliActor(),
          new Date(),
        );
        io.out(
          `replayed ${replayed} event${replayed === 1 ? '' : 's'}: the server sends them at its next poll`,
        );
        return;
      }
      default:
        throw new UsageError(action ? `unknown webhook command "${action}"` : 'webhook needs a command');
    }
  });
}

/** Runs one command line; returns the process exit code (0 done, 1 failed, 2 usage). */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: CliIo = processIo,
): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'keys':
        await runKeys(args, env, io);
        return 0;
      case 'apps':
        await runApps(args, env, io);
        return 0;
      case 'webhook':
        await runWebhook(args, env, io);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`vigil: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof ProblemError || isDomainError(error)) {
      io.err(`vigil: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
