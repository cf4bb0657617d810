// Entry of Vigil's worker threads: registers tsx's loader in this thread, then loads the TypeScript module
// named in workerData (the write thread or the apply thread).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
