import fs from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';

/** Thrown when a configuration file kept in the repo is invalid; the start stops with its message. */
export class ConfigFileError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ConfigFileError';
  }
}

/** A zod error as one line: `path: message; path: message`. */
function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Reads a YAML file and validates it against a schema; an unreadable file, bad YAML or a schema violation is
 * thrown as `toError(file, detail)` (by default a ConfigFileError).
 */
export function readConfigFile<S extends z.ZodType>(
  file: string,
  schema: S,
  toError: (file: string, detail: string) => Error = (f, d) => new ConfigFileError(f, d),
): z.infer<S> {
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw toError(file, error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw toError(file, issuesText(parsed.error));
  return parsed.data;
}
