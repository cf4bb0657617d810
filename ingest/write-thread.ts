import { Worker } from 'node:worker_threads';
import type { Logger } from '../api/logger.ts';
import { ProblemError } from '../api/problem.ts';
import type { WriteOpName, WriteOpPayload, WriteOpResult } from './write-ops.ts';
import type { OpMessage, ReplyMessage } from './write-thread-worker.ts';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The main thread's side of the write thread: posts ops, and settles each op's promise when the thread
 * reports its group committed. Inserting and fsyncing then run beside request handling instead of blocking it.
 * If the thread dies, every op in flight fails with a 503 and the next op starts a new thread.
 */
export class WriteThread {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #onCommit: (rows: number, seconds: number) => void;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  constructor(file: string, logger: Logger, onCommit: (rows: number, seconds: number) => void = () => {}) {
    this.#file = file;
    this.#logger = logger;
    this.#onCommit = onCommit;
  }

  run<K extends WriteOpName>(rows: number, op: K, payload: WriteOpPayload<K>): Promise<WriteOpResult<K>> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ type: 'op', id, rows, op, payload } satisfies OpMessage);
    });
  }

  /** Lets the thread commit what it holds, then stops it. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' });
    await exited;
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    // The boot file registers tsx in the new thread, which then loads the TypeScript sources as this one does.
    const worker = new Worker(new URL('./write-thread-boot.mjs', import.meta.url), {
      workerData: { file: this.#file },
    });
    worker.on('message', (message: ReplyMessage) => this.#settle(message));
    worker.on('error', (error) => this.#logger.error('write thread failed', { error }));
    worker.on('exit', (code) => {
      this.#worker = undefined;
      if (this.#waiting.size === 0) return;
      this.#logger.error('write thread exited with ops in flight', { code, ops: this.#waiting.size });
      for (const waiting of this.#waiting.values()) {
        waiting.reject(
          new ProblemError('unavailable', 'the write path restarted; retry', {
            headers: { 'retry-after': '1' },
          }),
        );
      }
      this.#waiting.clear();
    });

    this.#worker = worker;
    return worker;
  }

  #settle(message: ReplyMessage): void {
    if (message.type === 'committed') {
      this.#onCommit(message.rows, message.seconds);
      return;
    }
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    if (message.type === 'done') waiting.resolve(message.value);
    else if (message.problem)
      waiting.reject(new ProblemError(message.problem.code, message.problem.detail, message.problem.options));
    else waiting.reject(new Error(message.message));
  }
}
