import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const GCM_SIGNALS = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'] as const;
export type GcmSignal = (typeof GCM_SIGNALS)[number];

const PurposesFileSchema = z.strictObject({
  purposes: z.record(
    z.string().regex(/^[a-z][a-z_]{1,31}$/, 'expected a lower-case purpose name'),
    z.strictObject({
      description: z.string().min(1),
      tcfPurposes: z.array(z.number().int().min(1).max(11)),
      gcmSignals: z.array(z.enum(GCM_SIGNALS)),
    }),
  ),
});

/** One consent purpose with its IAB TCF and Google Consent Mode mappings. */
export interface Purpose {
  name: string;
  description: string;
  tcfPurposes: number[];
  gcmSignals: GcmSignal[];
}

/** Thrown when a consent configuration file is invalid; the start stops with its message. */
export class ConsentConfigError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ConsentConfigError';
  }
}

function readYaml(file: string): unknown {
  try {
    return parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConsentConfigError(file, error instanceof Error ? error.message : String(error));
  }
}

export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Loads and validates the purposes vocabulary (`consent/purposes.yaml` unless another file is named). */
export function loadPurposes(file = path.join(HERE, 'purposes.yaml')): Purpose[] {
  const parsed = PurposesFileSchema.safeParse(readYaml(file));
  if (!parsed.success) throw new ConsentConfigError(file, issuesText(parsed.error));
  const purposes = Object.entries(parsed.data.purposes).map(([name, p]) => ({ name, ...p }));
  if (purposes.length === 0) throw new ConsentConfigError(file, 'no purposes');
  return purposes;
}

export { readYaml };
