import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openSqlite, type Storage } from '../storage/index.ts';
import { ConsentGate, type GatePolicy, loadGatePolicy, openGatePolicy } from './gate.ts';
import { ConsentConfigError, loadPurposes } from './purposes.ts';

const purposes = loadPurposes();
const NOW = Date.parse('2026-11-28T12:00:00Z');
const LATER = new Date(NOW + 86_400_000).toISOString();

let registry: Registry;
let gate: ConsentGate;
beforeEach(() => {
  registry = new Registry();
  gate = new ConsentGate(purposes, loadGatePolicy(purposes), registry);
});

describe('the consent gate under consent/gate-policy.yaml', () => {
  it('keeps affiliate events under legitimate interest, saying why, with or without a record', () => {
    for (const kind of ['affiliate_click', 'affiliate_conversion'] as const) {
      const decision = gate.decide(kind, 'nobody', NOW);
      expect(decision.action).toBe('keep');
      expect(decision.reason).toBe('legitimate_interest');
      expect(decision.note).toMatch(/fraud prevention/);
    }
  });

  it('answers browser telemetry by the analytics decision: granted, denied, withdrawn, expired, none', () => {
    gate.apply('granted', 'analytics', 'granted', LATER);
    gate.apply('forever', 'analytics', 'granted', null);
    gate.apply('denied', 'analytics', 'denied', null);
    gate.apply('withdrawn', 'analytics', 'withdrawn', null);
    gate.apply('other-purpose', 'marketing', 'granted', LATER);
    const answer = (subject: string | undefined, at = NOW) => gate.decide('browser_telemetry', subject, at);
    expect(answer('granted')).toEqual({ action: 'keep', reason: 'consent' });
    expect(answer('forever')).toEqual({ action: 'keep', reason: 'consent' });
    expect(answer('denied')).toEqual({ action: 'drop', reason: 'denied' });
    expect(answer('withdrawn')).toEqual({ action: 'drop', reason: 'withdrawn' });
    expect(answer('other-purpose')).toEqual({ action: 'drop', reason: 'denied' });
    expect(answer('stranger')).toEqual({ action: 'drop', reason: 'no_record' });
    expect(answer(undefined)).toEqual({ action: 'keep', reason: 'no_subject' });
    expect(answer('granted', Date.parse(LATER))).toEqual({ action: 'drop', reason: 'expired' });
  });

  it('counts every answer by kind, action and reason, once per scrape', async () => {
    gate.apply('a', 'analytics', 'granted', LATER);
    gate.decide('browser_telemetry', 'a', NOW);
    gate.decide('browser_telemetry', 'b', NOW);
    gate.decide('browser_telemetry', 'b', NOW);
    await registry.metrics();
    gate.decide('browser_telemetry', 'b', NOW);
    const text = await registry.metrics();
    expect(text).toContain(
      'vigil_consent_gate_decisions_total{kind="browser_telemetry",action="keep",reason="consent"} 1',
    );
    expect(text).toContain(
      'vigil_consent_gate_decisions_total{kind="browser_telemetry",action="drop",reason="no_record"} 3',
    );
  });

  it('reports the share of known subjects granting each purpose, unexpired', async () => {
    gate.apply('a', 'analytics', 'granted', LATER);
    gate.apply('b', 'analytics', 'granted', new Date(NOW - 1).toISOString());
    gate.apply('c', 'analytics', 'denied', null);
    gate.apply('d', 'marketing', 'granted', null);
    expect(gate.grantedShares(NOW).get('analytics')).toBe(0.25);
    expect(gate.grantedShares(NOW).get('marketing')).toBe(0.25);
    expect(gate.grantedShares(NOW).get('personalization')).toBe(0);
  });
});

describe('the gate with other policies', () => {
  const policy = (over: Partial<GatePolicy>): GatePolicy => ({ ...loadGatePolicy(purposes), ...over });

  it('keeps subjects with no record when configured to', () => {
    gate.usePolicy(policy({ noRecord: 'allow' }));
    expect(gate.decide('browser_telemetry', 'stranger', NOW)).toEqual({
      action: 'keep',
      reason: 'no_record',
    });
    gate.apply('denied', 'analytics', 'denied', null);
    expect(gate.decide('browser_telemetry', 'denied', NOW).action).toBe('drop');
  });

  it('minimises instead of dropping when the policy says so', () => {
    const base = loadGatePolicy(purposes);
    gate.usePolicy({
      ...base,
      kinds: { ...base.kinds, affiliate_click: { purpose: 'marketing', without: 'minimise' } },
    });
    expect(gate.decide('affiliate_click', 'x', NOW)).toEqual({ action: 'minimise', reason: 'no_record' });
  });

  it('keeps everything when turned off with openGatePolicy()', () => {
    gate.apply('withdrawn', 'analytics', 'withdrawn', null);
    gate.usePolicy(openGatePolicy());
    expect(gate.decide('browser_telemetry', 'withdrawn', NOW).action).toBe('keep');
    expect(gate.decide('browser_telemetry', 'stranger', NOW).action).toBe('keep');
  });
});

describe('the gate in memory', () => {
  it('holds many subjects past its first allocation, and forgets one without leaking its state', () => {
    for (let i = 0; i < 5000; i += 1) gate.apply(`s-${i}`, 'analytics', i % 2 ? 'granted' : 'denied', LATER);
    expect(gate.size).toBe(5000);
    expect(gate.granted('s-4999', 'analytics', NOW)).toBe(true);
    expect(gate.granted('s-4998', 'analytics', NOW)).toBe(false);
    gate.forget('s-4999');
    expect(gate.decide('browser_telemetry', 's-4999', NOW).reason).toBe('no_record');
    // The freed slot goes to the next new subject, which must start with nothing granted.
    gate.apply('newcomer', 'marketing', 'granted', LATER);
    expect(gate.granted('newcomer', 'analytics', NOW)).toBe(false);
    expect(gate.granted('newcomer', 'marketing', NOW)).toBe(true);
  });

  describe('loaded from the state table', () => {
    let dir: string;
    let storage: Storage;
    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gate-'));
      storage = openSqlite(dir);
      await migrateToLatest(storage.db);
    });
    afterEach(async () => {
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers from memory once loaded: closing the database changes nothing', async () => {
      const record = await storage.db
        .insertInto('consent_records')
        .values({
          subject_id: 'a',
          kind: 'consent',
          decisions: '{}',
          policy_version: 'v1',
          notice_id: null,
          source: 'import',
          method: null,
          locale: null,
          tc_string: null,
          tcf: null,
          gcm: null,
          collected_at: '2026-11-28T00:00:00.000Z',
          recorded_at: '2026-11-28T00:00:00.000Z',
          expires_at: null,
          proof_ip_hash: null,
          proof_user_agent: null,
          proof_page_url: null,
          actor: 'test',
          prev_hash: '0',
          hash: 'h',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const state = (subject: string, purpose: string, status: 'granted' | 'denied' | 'withdrawn') => ({
        subject_id: subject,
        purpose,
        status,
        since: '2026-11-28T00:00:00.000Z',
        policy_version: 'v1',
        expires_at: status === 'granted' ? LATER : null,
        record_id: record.id,
      });
      await storage.db
        .insertInto('consent_state')
        .values([
          state('a', 'analytics', 'granted'),
          state('a', 'marketing', 'denied'),
          state('b', 'analytics', 'withdrawn'),
          state('c', 'unknown_purpose', 'granted'),
        ])
        .execute();
      gate.apply('stale', 'analytics', 'granted', LATER);
      expect(await gate.load(storage.db)).toBe(2);
      await storage.close();
      expect(gate.decide('browser_telemetry', 'a', NOW).action).toBe('keep');
      expect(gate.decide('browser_telemetry', 'b', NOW).reason).toBe('withdrawn');
      expect(gate.decide('browser_telemetry', 'stale', NOW).reason).toBe('no_record');
    });
  });
});

describe('the consent configuration files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-consent-config-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  it('maps every purpose in consent/purposes.yaml to TCF purposes or Consent Mode signals', () => {
    expect(purposes.map((p) => p.name)).toEqual(['analytics', 'marketing', 'personalization', 'functional']);
    for (const p of purposes) expect(p.tcfPurposes.length + p.gcmSignals.length).toBeGreaterThan(0);
  });

  it.each([
    ['unparsable YAML', 'purposes: [', /purposes\.yaml: /],
    [
      'a purpose without description',
      'purposes:\n  analytics:\n    tcfPurposes: [8]\n    gcmSignals: []\n',
      /purposes\.analytics\.description/,
    ],
    [
      'an unknown Consent Mode signal',
      'purposes:\n  analytics:\n    description: d\n    tcfPurposes: [8]\n    gcmSignals: [cookies]\n',
      /gcmSignals/,
    ],
    [
      'a TCF purpose out of range',
      'purposes:\n  analytics:\n    description: d\n    tcfPurposes: [12]\n    gcmSignals: []\n',
      /tcfPurposes/,
    ],
  ])('refuses a purposes file with %s, naming the file and the field', (_what, text, message) => {
    const p = file('purposes.yaml', text);
    expect(() => loadPurposes(p)).toThrow(ConsentConfigError);
    expect(() => loadPurposes(p)).toThrow(message);
  });

  it('refuses a gate policy naming an unknown purpose or leaving a kind out', () => {
    const rest =
      '  affiliate_click: {basis: legitimate_interest, note: n}\n' +
      '  affiliate_conversion: {basis: legitimate_interest, note: n}\nnoRecord: deny\n';
    const unknown = file(
      'unknown.yaml',
      `kinds:\n  browser_telemetry: {purpose: tracking, without: drop}\n${rest}`,
    );
    expect(() => loadGatePolicy(purposes, unknown)).toThrow(
      /browser_telemetry needs unknown purpose tracking/,
    );
    const missing = file('missing.yaml', `kinds:\n${rest}`);
    expect(() => loadGatePolicy(purposes, missing)).toThrow(/kinds\.browser_telemetry/);
  });
});
