import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigFileError, readConfigFile } from '../http/config-file.ts';
import { DATA_MAP, type DataMapEntry, mappedCategories } from './data-map.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_POLICIES_FILE = path.join(HERE, 'policies.yaml');

/** Thrown when the retention policies are invalid or do not cover the data map; the start stops with it. */
export class RetentionConfigError extends ConfigFileError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'RetentionConfigError';
  }
}

const DURATION = /^P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$/;

/** An ISO 8601 calendar duration of years, months and days. */
export interface Duration {
  years: number;
  months: number;
  days: number;
  text: string;
}

export function parseDuration(text: string): Duration | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P') return undefined;
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), days: Number(m[3] ?? 0), text };
}

/** `at` moved back by a duration, in calendar terms (UTC); a day past the month's end clamps to its last day. */
export function subtractDuration(at: Date, d: Duration): Date {
  const result = new Date(at);
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCFullYear(result.getUTCFullYear() - d.years);
  result.setUTCMonth(result.getUTCMonth() - d.months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  result.setUTCDate(result.getUTCDate() - d.days);
  return result;
}

/** `at` moved forward by whole calendar months (UTC), clamping to the month's last day. */
export function addMonths(at: Date, months: number): Date {
  const result = new Date(at);
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

const PolicySchema = z.strictObject({
  maxAge: z
    .string()
    .refine((v) => parseDuration(v) !== undefined, 'expected an ISO 8601 duration such as P30D, P13M or P10Y')
    .nullable(),
  action: z.enum(['delete', 'pseudonymise', 'keep']),
  purpose: z.string().min(1),
  legalBasis: z.string().min(1),
});

/** One category's retention policy. */
export interface RetentionPolicy {
  category: string;
  maxAge: Duration | null;
  action: 'delete' | 'pseudonymise' | 'keep';
  purpose: string;
  legalBasis: string;
  /** The tables of the category, from the data map. */
  tables: string[];
}

/** Why a policy cannot be carried out on one table of its category, or undefined when it can. */
function conflict(policy: RetentionPolicy, entry: DataMapEntry): string | undefined {
  if (policy.action === 'keep') {
    return entry.personal
      ? `${entry.table} holds personal data, so its category needs a maximum age`
      : undefined;
  }
  if (policy.maxAge === null) return `action ${policy.action} needs a maxAge`;
  if (!entry.age) return undefined; // rows leave with the rows they belong to
  if (policy.action === 'delete' && entry.chained)
    return `${entry.table} is hash-chained: its rows can be pseudonymised, not deleted`;
  if (policy.action === 'pseudonymise' && !(entry.erasure.action === 'pseudonymise' && entry.erasure.set))
    return `${entry.table} has no pseudonymisation in the data map`;
  return undefined;
}

/**
 * Loads the policies and checks them against the data map: every mapped category has exactly one policy, no
 * policy names a category the map does not know, and each policy can be carried out on each of its tables.
 */
export function loadRetentionPolicies(file = DEFAULT_POLICIES_FILE): RetentionPolicy[] {
  const parsed = readConfigFile(
    file,
    z.record(z.string(), PolicySchema),
    (f, d) => new RetentionConfigError(f, d),
  );
  const problems: string[] = [];
  const categories = mappedCategories();
  for (const category of categories) {
    if (!(category in parsed)) problems.push(`category ${category} has no retention policy`);
  }
  for (const category of Object.keys(parsed)) {
    if (!categories.includes(category)) problems.push(`${category} is not a category of the data map`);
  }
  const policies = Object.entries(parsed)
    .filter(([category]) => categories.includes(category))
    .map(
      ([category, p]): RetentionPolicy => ({
        category,
        maxAge: p.maxAge === null ? null : (parseDuration(p.maxAge) ?? null),
        action: p.action,
        purpose: p.purpose,
        legalBasis: p.legalBasis,
        tables: DATA_MAP.filter((e) => e.category === category).map((e) => e.table),
      }),
    );
  for (const policy of policies) {
    for (const entry of DATA_MAP.filter((e) => e.category === policy.category)) {
      const why = conflict(policy, entry);
      if (why) problems.push(`${policy.category}: ${why}`);
    }
  }
  if (problems.length > 0) throw new RetentionConfigError(file, problems.join('; '));
  return policies.sort((a, b) => (a.category < b.category ? -1 : 1));
}
