import { z } from '@hono/zod-openapi';
import * as zod from 'zod';
import { dataRecord } from '../data-record.ts';

// Lenient like Alloy's receiver: unknown fields are allowed (and dropped), but every string, array and map is
// bounded, so a payload can be stored without surprises.
const text = (max: number) => z.string().max(max);
const ts = z.string().max(64).optional();
const context = dataRecord({ maxKeyLength: 128, maxKeys: 256 }).optional();
const TRACE = z.looseObject({ trace_id: text(64).optional(), span_id: text(32).optional() }).optional();

const Meta = z
  .looseObject({
    sdk: z.looseObject({ name: text(64).optional(), version: text(64).optional() }).optional(),
    app: z
      .looseObject({
        name: text(128).optional(),
        version: text(64).optional(),
        environment: text(64).optional(),
        namespace: text(64).optional(),
      })
      .optional(),
    user: z.looseObject({ id: text(256).optional() }).optional(),
    session: z
      .looseObject({
        id: text(128).optional(),
        // What the SDK's `setSession({ attributes })` sends: a consent banner's reference or TC string, among others.
        attributes: dataRecord({ maxKeyLength: 128, maxKeys: 256 }).optional(),
      })
      .optional(),
    page: z.looseObject({ url: text(4096).optional(), id: text(128).optional() }).optional(),
    browser: z
      .looseObject({
        name: text(64).optional(),
        version: text(64).optional(),
        os: text(128).optional(),
        mobile: z.boolean().optional(),
        language: text(32).optional(),
      })
      .optional(),
    view: z.looseObject({ name: text(128).optional() }).optional(),
  })
  .optional();

const Log = z.looseObject({
  message: text(8192),
  level: text(16).optional(),
  context,
  timestamp: ts,
  trace: TRACE,
});

const Frame = z.looseObject({
  filename: text(2048).optional(),
  function: text(512).optional(),
  lineno: z.number().optional(),
  colno: z.number().optional(),
});

const Exception = z.looseObject({
  type: text(256),
  value: text(8192).optional(),
  timestamp: ts,
  stacktrace: z.looseObject({ frames: z.array(Frame).max(200) }).optional(),
  context,
  trace: TRACE,
});

const Measurement = z.looseObject({
  type: text(128),
  values: z.record(text(64), z.number()).refine((v) => Object.keys(v).length <= 64, 'at most 64 values'),
  timestamp: ts,
  context,
  trace: TRACE,
});

const Event = z.looseObject({
  name: text(256),
  domain: text(128).optional(),
  attributes: dataRecord({ maxKeyLength: 128, maxKeys: 256 }).optional(),
  timestamp: ts,
  trace: TRACE,
});

const AnyValue = z.looseObject({
  stringValue: text(4096).optional(),
  intValue: z.union([z.number(), text(32)]).optional(),
  doubleValue: z.number().optional(),
  boolValue: z.boolean().optional(),
});
const Attribute = z.looseObject({ key: text(256), value: AnyValue.optional() });

const Span = z.looseObject({
  traceId: text(64),
  spanId: text(32),
  parentSpanId: text(32).optional(),
  name: text(512),
  kind: z.number().int().optional(),
  startTimeUnixNano: z.union([text(32), z.number()]).optional(),
  endTimeUnixNano: z.union([text(32), z.number()]).optional(),
  attributes: z.array(Attribute).max(256).optional(),
  status: z.looseObject({ code: z.number().int().optional(), message: text(1024).optional() }).optional(),
});

const Traces = z.looseObject({
  resourceSpans: z
    .array(
      z.looseObject({
        resource: z.looseObject({ attributes: z.array(Attribute).max(256).optional() }).optional(),
        scopeSpans: z
          .array(
            z.looseObject({
              scope: z.looseObject({ name: text(256).optional(), version: text(64).optional() }).optional(),
              spans: z.array(Span).max(1000),
            }),
          )
          .max(100),
      }),
    )
    .max(100),
});

/** The body `@grafana/faro-web-sdk` posts (the same as Alloy's `faro.receiver` takes). */
export const FaroPayloadSchema = z
  .looseObject({
    meta: Meta,
    logs: z.array(Log).max(1000).optional(),
    exceptions: z.array(Exception).max(1000).optional(),
    measurements: z.array(Measurement).max(1000).optional(),
    events: z.array(Event).max(1000).optional(),
    traces: Traces.optional(),
  })
  .openapi('FaroPayload');

export type FaroPayload = z.infer<typeof FaroPayloadSchema>;
export type OtlpAttribute = z.infer<typeof Attribute>;

/** The payload schema compiled ahead of time (see `CompiledEventBatchSchema`); its issues come from the original. */
export const CompiledFaroPayloadSchema = zod.compile(FaroPayloadSchema, { strict: true });
