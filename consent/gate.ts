import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Database } from '../storage/index.ts';
import { ConsentConfigError, issuesText, type Purpose, readYaml } from './purposes.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The kinds of ingested data the gate knows. */
export const GATED_KINDS = [
  'browser_telemetry',
  'affiliate_click',
  'affiliate_conversion',
  'server_log',
] as const;
export type GatedKind = (typeof GATED_KINDS)[number];

const PolicySchema = z.strictObject({
  kinds: z.record(
    z.enum(GATED_KINDS),
    z.union([
      z.strictObject({ purpose: z.string(), without: z.enum(['drop', 'minimise']) }),
      z.strictObject({ basis: z.literal('legitimate_interest'), note: z.string().min(1) }),
    ]),
  ),
  noRecord: z.enum(['deny', 'allow']),
});

type KindRule =
  | { purpose: string; without: 'drop' | 'minimise' }
  | { basis: 'legitimate_interest'; note: string };

/** What the gate policy file says. */
export interface GatePolicy {
  kinds: Record<GatedKind, KindRule>;
  noRecord: 'deny' | 'allow';
}

/** Loads `consent/gate-policy.yaml` (or another file) and checks it names only known purposes. */
export function loadGatePolicy(purposes: Purpose[], file = path.join(HERE, 'gate-policy.yaml')): GatePolicy {
  const parsed = PolicySchema.safeParse(readYaml(file));
  if (!parsed.success) throw new ConsentConfigError(file, issuesText(parsed.error));
  const names = new Set(purposes.map((p) => p.name));
  for (const [kind, rule] of Object.entries(parsed.data.kinds)) {
    if ('purpose' in rule && !names.has(rule.purpose)) {
      throw new ConsentConfigError(file, `${kind} needs unknown purpose ${rule.purpose}`);
    }
  }
  return parsed.data as GatePolicy;
}

/** A policy that keeps everything: ingestion without the gate, for comparisons. */
export function openGatePolicy(): GatePolicy {
  const rule: KindRule = { basis: 'legitimate_interest', note: 'gate off' };
  return {
    kinds: Object.fromEntries(GATED_KINDS.map((k) => [k, rule])) as Record<GatedKind, KindRule>,
    noRecord: 'allow',
  };
}

export type GateAction = 'keep' | 'drop' | 'minimise';

/** The gate's answer for one item, with a reason code for metrics and logs. */
export interface GateDecision {
  action: GateAction;
  reason: 'no_subject' | 'legitimate_interest' | 'consent' | 'denied' | 'withdrawn' | 'expired' | 'no_record';
}

const NOT_GRANTED = 0;
const WITHDRAWN = -1;

/**
 * Answers, from memory only, whether ingestion may keep an item about a subject. Per subject it holds one
 * number per purpose: when granted, the expiry in epoch ms (Infinity without one); 0 when denied; -1 when
 * withdrawn. It is loaded from `consent_state` at start and updated after every ledger write commits.
 */
export class ConsentGate {
  readonly #index: Map<string, number>;
  readonly #state = new Map<string, Float64Array>();
  readonly #decisions: Counter<'kind' | 'action' | 'reason'>;

  constructor(
    readonly purposes: Purpose[],
    private policy: GatePolicy,
    registry: Registry,
  ) {
    this.#index = new Map(purposes.map((p, i) => [p.name, i]));
    this.#decisions = new Counter({
      name: 'vigil_consent_gate_decisions_total',
      help: 'Consent gate answers for ingested items, by kind of data, action and reason.',
      labelNames: ['kind', 'action', 'reason'] as const,
      registers: [registry],
    });
    const gate = this;
    new Gauge({
      name: 'vigil_consent_granted_share',
      help: 'Share of subjects in the ledger whose consent to each purpose is granted and not expired.',
      labelNames: ['purpose'] as const,
      registers: [registry],
      collect() {
        const now = Date.now();
        for (const [purpose, share] of gate.grantedShares(now)) this.set({ purpose }, share);
      },
    });
  }

  /** Replaces the policy (tests and benchmarks turn the gate off with `openGatePolicy()`). */
  usePolicy(policy: GatePolicy): void {
    this.policy = policy;
  }

  /** Loads every subject's current state with one query. */
  async load(db: Kysely<Database>): Promise<number> {
    this.#state.clear();
    const rows = await db
      .selectFrom('consent_state')
      .select(['subject_id', 'purpose', 'status', 'expires_at'])
      .execute();
    for (const row of rows) this.apply(row.subject_id, row.purpose, row.status, row.expires_at);
    return this.#state.size;
  }

  /** Records one committed decision in memory. */
  apply(
    subjectId: string,
    purpose: string,
    status: 'granted' | 'denied' | 'withdrawn',
    expiresAt: string | null,
  ): void {
    const i = this.#index.get(purpose);
    if (i === undefined) return;
    let slots = this.#state.get(subjectId);
    if (!slots) {
      slots = new Float64Array(this.#index.size);
      this.#state.set(subjectId, slots);
    }
    slots[i] =
      status === 'granted'
        ? expiresAt === null
          ? Number.POSITIVE_INFINITY
          : Date.parse(expiresAt)
        : status === 'withdrawn'
          ? WITHDRAWN
          : NOT_GRANTED;
  }

  /** Forgets a subject (erasure). */
  forget(subjectId: string): void {
    this.#state.delete(subjectId);
  }

  /** Whether the subject's consent to the purpose is granted and unexpired at `nowMs`. */
  granted(subjectId: string, purpose: string, nowMs: number): boolean {
    const i = this.#index.get(purpose);
    const slots = this.#state.get(subjectId);
    return i !== undefined && slots !== undefined && (slots[i] ?? 0) > nowMs;
  }

  /** The gate's answer for an item of `kind` about `subjectId` (undefined: the item names no subject). */
  decide(kind: GatedKind, subjectId: string | undefined, nowMs: number): GateDecision {
    const decision = this.#decide(kind, subjectId, nowMs);
    this.#decisions.inc({ kind, action: decision.action, reason: decision.reason });
    return decision;
  }

  #decide(kind: GatedKind, subjectId: string | undefined, nowMs: number): GateDecision {
    const rule = this.policy.kinds[kind];
    if ('basis' in rule) return { action: 'keep', reason: 'legitimate_interest' };
    if (subjectId === undefined) return { action: 'keep', reason: 'no_subject' };
    const slots = this.#state.get(subjectId);
    const i = this.#index.get(rule.purpose) ?? -1;
    if (!slots) {
      return this.policy.noRecord === 'allow'
        ? { action: 'keep', reason: 'consent' }
        : { action: rule.without, reason: 'no_record' };
    }
    const value = slots[i] ?? 0;
    if (value > nowMs) return { action: 'keep', reason: 'consent' };
    if (value === WITHDRAWN) return { action: rule.without, reason: 'withdrawn' };
    if (value === NOT_GRANTED) return { action: rule.without, reason: 'denied' };
    return { action: rule.without, reason: 'expired' };
  }

  /** Subjects known to the gate. */
  get size(): number {
    return this.#state.size;
  }

  /** Per purpose, the share of known subjects whose consent is granted and unexpired. */
  grantedShares(nowMs: number): Map<string, number> {
    const counts = new Array<number>(this.#index.size).fill(0);
    for (const slots of this.#state.values()) {
      for (let i = 0; i < slots.length; i += 1) if ((slots[i] ?? 0) > nowMs) counts[i] = (counts[i] ?? 0) + 1;
    }
    const total = this.#state.size;
    return new Map(this.purposes.map((p, i) => [p.name, total === 0 ? 0 : (counts[i] ?? 0) / total]));
  }
}
