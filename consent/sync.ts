// Keeps a replica's consent gate in step with consent decided through the other replicas of one PostgreSQL
// database. Every change to a subject's consent (a record, a withdrawal, an erasure) sends the subject id on a
// channel of the database (`pg_notify`, delivered when its transaction commits); each replica listens on its
// own connection and re-reads the subjects it hears about. A notification can be lost (the listening
// connection drops), so the whole gate is also reloaded after every (re)connection and every `resyncMs`: a
// withdrawal made through one replica holds on every other within milliseconds, and at worst within
// `resyncMs`. On SQLite one process owns the database and there is nothing to announce.
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../http/logger.ts';
import { type Database, isPostgres } from '../storage/index.ts';
import type { ConsentGate } from './gate.ts';

/**
 * The channel's name: one per schema, as replicas of different installations may share a database (NOTIFY
 * is database-wide), and short enough for PostgreSQL's 63-byte names.
 */
const CHANNEL = "'vigil_consent_' || left(md5(current_schema()), 16)";

/** How the listening connection names itself in `pg_stat_activity`. */
export const SYNC_APPLICATION_NAME = 'vigil consent sync';
/** Subjects re-read per query. */
const RELOAD_BATCH = 500;
const MAX_RECONNECT_MS = 30_000;

/**
 * Tells every replica that a subject's consent changed. Inside a transaction, PostgreSQL delivers it when the
 * transaction commits (and never if it rolls back). Does nothing on SQLite.
 */
export async function announceConsentChange(db: Kysely<Database>, subjectId: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select pg_notify(${sql.raw(CHANNEL)}, ${subjectId})`.execute(db);
}

export interface ConsentSyncOptions {
  db: Kysely<Database>;
  gate: ConsentGate;
  logger: Logger;
  /** The PostgreSQL the replicas share, for the connection that listens; the schema is the pool's. */
  listen: { connectionString: string; schema?: string };
  /** How often the whole gate is reloaded, whatever was heard. */
  resyncMs: number;
  /** The first wait before the listening connection is made again; it doubles up to 30 s. Default 1 s. */
  reconnectMs?: number;
}

export interface ConsentSync {
  /** Resolves once the listening connection is up and the gate has been reloaded after it. */
  ready: Promise<void>;
  /** Resolves once what was heard so far is in the gate. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts listening and the periodic resync; the gate must have been loaded once before. */
export function startConsentSync(options: ConsentSyncOptions): ConsentSync {
  const { db, gate, logger } = options;
  const firstWait = options.reconnectMs ?? 1000;
  /** Subjects heard about and not yet re-read. */
  const heard = new Set<string>();
  let reloadAll = false;
  // One task at a time, so that a reload's snapshot never lands after a newer one.
  let work: Promise<void> = Promise.resolve();
  let scheduled = false;
  let stopped = false;
  let listener: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let wait = firstWait;

  const catchUp = async () => {
    scheduled = false;
    try {
      if (reloadAll) {
        reloadAll = false;
        // Whatever was heard before this point committed before it, so the reload covers it.
        heard.clear();
        await gate.load(db);
      }
      while (heard.size > 0 && !stopped) {
        const batch = [...heard].slice(0, RELOAD_BATCH);
        for (const subjectId of batch) heard.delete(subjectId);
        await gate.reload(db, batch);
      }
    } catch (error) {
      // The database is away: the next resync reloads everything.
      reloadAll = true;
      logger.warn('consent sync could not read the consent state', { error: errorKind(error) });
    }
  };
  const schedule = () => {
    if (scheduled || stopped) return work;
    scheduled = true;
    work = work.then(catchUp);
    return work;
  };

  const connect = async (): Promise<void> => {
    const client = new pg.Client({
      connectionString: options.listen.connectionString,
      application_name: SYNC_APPLICATION_NAME,
      ...(options.listen.schema ? { options: `-c search_path=${options.listen.schema}` } : {}),
    });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (listener === client) listener = undefined;
      client.end().catch(() => {});
      if (stopped) return;
      logger.warn('consent sync lost its database connection; reconnecting', {
        error: errorKind(error),
        inMs: wait,
      });
      reconnectLater();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.payload === undefined || message.payload === '') return;
      heard.add(message.payload);
      void schedule();
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ channel: string }>(`select ${CHANNEL} as channel`);
      const channel = rows[0]?.channel ?? '';
      // Made of letters, digits and underscores only, so quoting it is enough.
      await client.query(`listen "${channel}"`);
    } catch (error) {
      onLost(error);
      throw error;
    }
    if (stopped) {
      await client.end().catch(() => {});
      return;
    }
    listener = client;
    wait = firstWait;
    // What changed while nobody listened.
    reloadAll = true;
    await schedule();
  };

  const reconnectLater = () => {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      connect().catch(() => {});
    }, wait);
    reconnectTimer.unref();
    wait = Math.min(MAX_RECONNECT_MS, wait * 2);
  };

  const resync = setInterval(() => {
    reloadAll = true;
    void schedule();
  }, options.resyncMs);
  resync.unref();

  const ready = connect();
  // A failed first connection is retried like a lost one; `ready` still says it failed.
  ready.catch(() => {});

  return {
    ready,
    settled: () => work,
    async stop() {
      stopped = true;
      clearInterval(resync);
      clearTimeout(reconnectTimer);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => {});
      await work;
    },
  };
}

/** An error's kind only: a driver's message may carry the connection string. */
function errorKind(error: unknown): string {
  if (error === undefined) return 'connection ended';
  if (error instanceof Error)
    return 'code' in error && error.code ? `${error.name} ${error.code}` : error.name;
  return 'error';
}
