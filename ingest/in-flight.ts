import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../api/context.ts';
import type { BatchWriter } from './batch-writer.ts';

/**
 * Counts the request against the writer's bound on ingest requests in flight (`BatchWriter.enterRequest`)
 * until it is answered; past the bound it is refused with 503 before its body is read. Put before the role
 * check, which reads the database.
 */
export function inFlightBound(writer: BatchWriter) {
  return createMiddleware<AppEnv>(async (_c, next) => {
    const leave = writer.enterRequest();
    try {
      await next();
    } finally {
      leave();
    }
  });
}
