import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigFileError, readConfigFile } from '../http/config-file.ts';

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
export class ConsentConfigError extends ConfigFileError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'ConsentConfigError';
  }
}

/** Reads and validates a consent configuration file. */
export function readConsentConfig<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return readConfigFile(file, schema, (f, d) => new ConsentConfigError(f, d));
}

/** Loads and validates the purposes vocabulary (`consent/purposes.yaml` unless another file is named). */
export function loadPurposes(file = path.join(HERE, 'purposes.yaml')): Purpose[] {
  const parsed = readConsentConfig(file, PurposesFileSchema);
  const purposes = Object.entries(parsed.purposes).map(([name, p]) => ({ name, ...p }));
  if (purposes.length === 0) throw new ConsentConfigError(file, 'no purposes');
  return purposes;
}
