// The write thread: owns its own SQLite connection and runs the ops the main thread posts, grouping every op
// that arrived within one turn of its event loop into one transaction (group commit). Each op's answer is
// posted back only after that transaction has committed.
import { parentPort, workerData } from 'node:worker_threads';
import { ProblemError } from '../api/problem.ts';
import { openSqliteConnection } from '../storage/database.ts';
import { WRITE_OPS, type WriteOpName } from './write-ops.ts';

/** An op posted by the main thread. */
export interface OpMessage {
  type: 'op';
  id: number;
  /** Rows the op writes, for the commit metrics. */
  rows: number;
  op: WriteOpName;
  payload: unknown;
}

/** What the thread answers for each op. */
export type ReplyMessage =
  | { type: 'done'; id: number; value: unknown }
  | {
      type: 'failed';
      id: number;
      problem?: { code: ProblemError['code']; detail?: string; options: ProblemError['options'] };
      message: string;
    }
  | { type: 'committed'; rows: number; seconds: number };

const port = parentPort;
if (!port) throw new Error('write-thread-worker runs only as a worker thread');
const { file } = workerData as { file: string };
const sqlite = openSqliteConnection(file);
let queue: OpMessage[] = [];
let scheduled = false;

function run(message: OpMessage): unknown {
  const op = WRITE_OPS[message.op] as (db: typeof sqlite, payload: unknown) => unknown;
  return op(sqlite, message.payload);
}

function failure(id: number, error: unknown): ReplyMessage {
  if (error instanceof ProblemError) {
    return {
      type: 'failed',
      id,
      problem: { code: error.code, detail: error.detail, options: error.options },
      message: error.message,
    };
  }
  return { type: 'failed', id, message: error instanceof Error ? error.message : String(error) };
}

function flush(): void {
  scheduled = false;
  const group = queue;
  queue = [];
  if (group.length === 0) return;
  const started = process.hrtime.bigint();
  let replies: ReplyMessage[];
  try {
    const values = sqlite.transaction(() => group.map(run)).immediate();
    replies = group.map((m, i) => ({ type: 'done', id: m.id, value: values[i] }));
  } catch {
    // One op failed and rolled the group back: run each alone, so that only the failing one fails.
    replies = group.map((m) => {
      try {
        return { type: 'done', id: m.id, value: sqlite.transaction(() => run(m)).immediate() };
      } catch (error) {
        return failure(m.id, error);
      }
    });
  }
  port?.postMessage({
    type: 'committed',
    rows: group.reduce((sum, m) => sum + m.rows, 0),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  });
  for (const reply of replies) port?.postMessage(reply);
}

port.on('message', (message: OpMessage | { type: 'close' }) => {
  if (message.type === 'close') {
    flush();
    sqlite.close();
    port.close();
    return;
  }
  queue.push(message);
  if (!scheduled) {
    scheduled = true;
    // After the poll phase: every op whose message arrived meanwhile joins this group.
    setImmediate(flush);
  }
});
