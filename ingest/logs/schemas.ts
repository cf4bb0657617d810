import { z } from '@hono/zod-openapi';
import { Timestamp } from '../events/schemas.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** trace 1 … fatal 6: stored beside the level so "at least warn" is a range query. */
export function severityOf(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level) + 1;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const LogEntrySchema = z
  .strictObject({
    ts: Timestamp,
    level: z.enum(LOG_LEVELS),
    service: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\w.-]+$/, 'expected letters, digits, dots, dashes or underscores'),
    message: z.string().max(8192),
    route: z.string().min(1).max(512).optional(),
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(HTTP_METHODS))
      .optional(),
    status: z.number().int().min(100).max(599).optional(),
    durationMs: z.number().finite().min(0).max(86_400_000).optional(),
    traceId: z
      .string()
      .regex(/^[0-9a-fA-F]{16,32}$/, 'expected a 16 or 32 hex digit trace id')
      .optional(),
    attrs: z.record(z.string().max(128), z.unknown()).optional(),
  })
  .openapi('LogEntry');
export type LogEntry = z.infer<typeof LogEntrySchema>;

export const LogBatchSchema = z.array(LogEntrySchema).min(1).max(100_000);

export const StoredLogSchema = z
  .object({
    id: z.number().int(),
    ts: z.string(),
    level: z.enum(LOG_LEVELS),
    service: z.string(),
    message: z.string(),
    route: z.string().nullable(),
    method: z.string().nullable(),
    status: z.number().int().nullable(),
    durationMs: z.number().nullable(),
    traceId: z.string().nullable(),
    attrs: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('StoredLog');
