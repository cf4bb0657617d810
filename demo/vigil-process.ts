// A Vigil of the demo's own: API keys written into a fresh data directory before the start, then the server
// started as a child process the way `npm start` starts it, ready once it logs that it is listening.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../http/api-keys.ts';
import type { Role } from '../http/roles.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Starting tsx and migrating has taken over 15 s on a loaded two-core machine. */
const START_TIMEOUT_MS = 60_000;
/** The server's log lines kept to explain an early exit. */
const KEPT_LOG_LINES = 20;

/** Creates one key per role in the data directory (migrating it first) and returns the secrets. */
export async function createKeys<R extends Role>(dataDir: string, roles: R[]): Promise<Record<R, string>> {
  const storage = openSqlite(dataDir);
  try {
    await migrateToLatest(storage.db);
    const keys = {} as Record<R, string>;
    for (const role of roles) {
      const created = await createApiKey(
        storage.db,
        { name: `demo-${role}`, role },
        { name: 'demo', role: 'operator' },
        new Date(),
      );
      keys[role] = created.key;
    }
    return keys;
  } finally {
    await storage.close();
  }
}

/** A Vigil server running as a child process. */
export interface VigilProcess {
  child: ChildProcess;
  /** Its base URL once it is listening; rejects if it stops first or does not start in time. */
  ready: Promise<string>;
  /** The server's last log lines (JSON, from stderr). */
  lastLogs(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `api/server.ts` on 127.0.0.1:`port` (0: any free port) with `dataDir`; ready once it logs "listening".
 * The process is returned at once, so that a stop during the start can end it too.
 */
export function startVigil(options: { dataDir: string; port: number }): VigilProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_DATA_DIR: options.dataDir, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // stderr is read for as long as the server runs: a full pipe would stop it at its next log line.
  let lines: string[] = [];
  let partial = '';
  const listening = new Promise<number>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      lines = [...lines, ...complete].slice(-KEPT_LOG_LINES);
      for (const line of complete) {
        const match = /"msg":"listening","port":(\d+)/.exec(line);
        if (match) resolve(Number(match[1]));
      }
    });
  });
  const lastLogs = () => [...lines, partial].filter(Boolean).join('\n');

  const ready = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      listening,
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (typeof outcome === 'number') return `http://127.0.0.1:${outcome}`;
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    const logs = lastLogs();
    if (logs.includes('EADDRINUSE'))
      throw new Error(`port ${options.port} is taken: choose another with --port <n>`);
    throw new Error(
      outcome === 'timeout'
        ? `Vigil did not start within ${START_TIMEOUT_MS / 1000} s:\n${logs}`
        : `Vigil stopped before it was listening:\n${logs}`,
    );
  })();
  return { child, ready, lastLogs, exited };
}
