import { z } from '@hono/zod-openapi';
import * as zod from 'zod';
import { dataRecord } from '../data-record.ts';
import { TIMESTAMP_MESSAGE } from '../timestamps.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** trace 1 … fatal 6: stored beside the level so "at least warn" is a range query. */
export function severityOf(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level) + 1;
}

// Years 0000–9999 only: `toISOString` then always has the same shape, so stored `ts` strings sort and compare as
// times (a later year would gain a `+0` prefix and sort before every other).
const LAST_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const toIsoUtc = (value: string | number) => new Date(value).toISOString();
// An offset can still carry 9999-12-31 into year 10000 (or 0000 back into year -1).
const InYearRange = z.string().regex(/^\d{4}-/, 'expected a time in the years 0000 to 9999');

/** ISO 8601 with offset, or epoch milliseconds; stored as UTC ISO 8601. */
const LogTimestamp = z
  .union(
    [
      z.iso.datetime({ offset: true, message: TIMESTAMP_MESSAGE }),
      z.number().int(TIMESTAMP_MESSAGE).min(0, TIMESTAMP_MESSAGE).max(LAST_EPOCH_MS, TIMESTAMP_MESSAGE),
    ],
    { message: TIMESTAMP_MESSAGE },
  )
  .transform(toIsoUtc)
  .pipe(InYearRange)
  .openapi({ description: 'ISO 8601 with offset, or epoch milliseconds', example: '2026-11-28T12:00:00Z' });

/** A time in a search query (ISO 8601 with offset), as UTC ISO 8601 to compare with stored `ts`. */
export const QueryTime = z.iso
  .datetime({ offset: true })
  .transform(toIsoUtc)
  .pipe(InYearRange)
  .openapi({ description: 'ISO 8601 with offset', example: '2026-11-28T12:00:00Z' });

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const LogEntrySchema = z
  .strictObject({
    ts: LogTimestamp,
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
    attrs: dataRecord({ maxKeyLength: 128, maxKeys: 1000 }).optional(),
  })
  .openapi('LogEntry');
export type LogEntry = z.infer<typeof LogEntrySchema>;

export const LogBatchSchema = z.array(LogEntrySchema).min(1).max(100_000);

/** The batch schema compiled ahead of time (see `CompiledEventBatchSchema`); its issues come from the original. */
export const CompiledLogBatchSchema = zod.compile(LogBatchSchema, { strict: true });

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
