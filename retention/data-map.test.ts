import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openSqlite, type Storage } from '../storage/index.ts';
import { tempDataDir } from '../test/harness.ts';
import { DATA_MAP, entryOfTable, INTERNAL_TABLE, mappedCategories } from './data-map.ts';
import {
  addMonths,
  loadRetentionPolicies,
  parseDuration,
  RetentionConfigError,
  subtractDuration,
} from './policies.ts';

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDataDir();
  storage = openSqlite(dataDir);
  await migrateToLatest(storage.db);
});
afterAll(async () => {
  await storage.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function tables(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master where type = 'table' order by name`.execute(storage.db);
  return rows.map((r) => r.name).filter((name) => !INTERNAL_TABLE.test(name));
}

async function columns(table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(
    storage.db,
  );
  return rows.map((r) => r.name);
}

describe('the data map', () => {
  it('covers every table the migrations create, full-text shadow tables included', async () => {
    const uncovered = (await tables()).filter((table) => entryOfTable(table) === undefined);
    expect(uncovered).toEqual([]);
  });

  it('names only tables and columns that exist', async () => {
    const existing = await tables();
    for (const entry of DATA_MAP) {
      expect(existing, entry.table).toContain(entry.table);
      const cols = await columns(entry.table);
      for (const column of Object.keys(entry.columns))
        expect(cols, `${entry.table}.${column}`).toContain(column);
      if (entry.age) expect(cols, `${entry.table} age`).toContain(entry.age.column);
    }
  });

  it('says how to find a subject, and what erasure does, for every table holding personal data', () => {
    for (const entry of DATA_MAP.filter((e) => e.personal)) {
      expect(Object.keys(entry.columns).length, entry.table).toBeGreaterThan(0);
      if (entry.erasure.action === 'none') expect(entry.erasure.why.length, entry.table).toBeGreaterThan(0);
      else expect(entry.find, entry.table).toBeDefined();
    }
  });

  it('keeps the hash-chained tables and the legal-obligation stores by pseudonymising them', () => {
    const byTable = new Map(DATA_MAP.map((e) => [e.table, e]));
    for (const table of ['audit_log', 'consent_records', 'payouts', 'affiliates']) {
      expect(byTable.get(table)?.erasure.action, table).toBe('pseudonymise');
    }
    for (const entry of DATA_MAP.filter((e) => e.chained)) expect(entry.erasure.action).toBe('pseudonymise');
  });

  it('runs rows found through another row before that row is pseudonymised', () => {
    const order = DATA_MAP.map((e) => e.table);
    expect(order.indexOf('payouts')).toBeLessThan(order.indexOf('affiliates'));
    expect(order.indexOf('affiliate_coupons')).toBeLessThan(order.indexOf('affiliates'));
    expect(order.at(-1)).toBe('privacy_requests');
  });
});

describe('the retention policies', () => {
  it('load from the repo and cover every category of the map', () => {
    const policies = loadRetentionPolicies();
    expect(policies.map((p) => p.category)).toEqual(mappedCategories());
    for (const p of policies) {
      expect(p.purpose.length).toBeGreaterThan(0);
      expect(p.legalBasis.length).toBeGreaterThan(0);
    }
  });

  function policiesFile(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-policies-')), 'policies.yaml');
    fs.writeFileSync(file, text);
    return file;
  }
  const repo = fs.readFileSync(new URL('./policies.yaml', import.meta.url), 'utf8');

  it('stop the start when a category has no policy', () => {
    const without = repo.replace(/^server-logs:\n(?: {2}.*\n)+/m, '');
    expect(() => loadRetentionPolicies(policiesFile(without))).toThrow(
      /category server-logs has no retention policy/,
    );
  });

  it('refuse unknown categories, bad durations, deleting a hash chain, and no limit on personal data', () => {
    const cases: [string, RegExp][] = [
      [
        `${repo}\nmarketing:\n  maxAge: P1Y\n  action: delete\n  purpose: x\n  legalBasis: y\n`,
        /marketing is not a category/,
      ],
      [repo.replace(/(server-logs:\n {2}maxAge:) P30D/, '$1 30 days'), /ISO 8601 duration/],
      [
        repo.replace(/(audit-trail:\n {2}maxAge: P6Y\n {2}action:) pseudonymise/, '$1 delete'),
        /audit_log is hash-chained/,
      ],
      [
        repo.replace(/(browser-telemetry:\n {2}maxAge:) P30D\n {2}action: delete/, '$1 null\n  action: keep'),
        /personal data/,
      ],
    ];
    for (const [text, message] of cases) {
      expect(() => loadRetentionPolicies(policiesFile(text))).toThrow(RetentionConfigError);
      expect(() => loadRetentionPolicies(policiesFile(text))).toThrow(message);
    }
  });

  it('count calendar months and years', () => {
    const at = new Date('2026-03-31T10:00:00Z');
    expect(subtractDuration(at, parseDuration('P1M') ?? fail()).toISOString()).toBe(
      '2026-02-28T10:00:00.000Z',
    );
    expect(subtractDuration(at, parseDuration('P1Y30D') ?? fail()).toISOString()).toBe(
      '2025-03-01T10:00:00.000Z',
    );
    expect(addMonths(new Date('2026-01-31T00:00:00Z'), 1).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(addMonths(new Date('2026-11-29T00:00:00Z'), 3).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(parseDuration('P')).toBeUndefined();
    expect(parseDuration('30D')).toBeUndefined();
  });
});

function fail(): never {
  throw new Error('unparsed');
}
