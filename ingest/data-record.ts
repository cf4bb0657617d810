import { z } from '@hono/zod-openapi';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A free-form JSON object (log `attrs`, Faro `context` and event `attributes`) with bounded keys, passed on
 * exactly as parsed. `z.record` builds a new object by assignment, which turns a `__proto__` key into the
 * prototype and so drops it silently; here such a key stays what the sender sent: data.
 */
export function dataRecord(options: { maxKeyLength: number; maxKeys: number }) {
  const message = `expected an object of at most ${options.maxKeys} keys of at most ${options.maxKeyLength} characters`;
  return z
    .custom<Record<string, unknown>>(
      (value) => {
        if (!isPlainObject(value)) return false;
        const keys = Object.keys(value);
        return keys.length <= options.maxKeys && keys.every((key) => key.length <= options.maxKeyLength);
      },
      { message },
    )
    .openapi({ type: 'object', additionalProperties: true, description: message });
}
