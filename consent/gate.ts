import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Database } from '../storage/index.ts';
import { ConsentConfigError, type Purpose, readConsentConfig } from './purposes.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The kinds of ingested data the gate knows. */
const GATED_KINDS = ['browser_telemetry', 'affiliate_click', 'affiliate_conversion'] as const;
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

/** What the policy says about one kind: the purpose it needs (and the action without it), or its legal basis. */
type KindRule =
  | { purpose: string; without: 'drop' | 'minimise' }
  | { basis: 'legitimate_interest'; note: string };

/** What the gate policy file says. */
export interface GatePolicy {
  kinds: Record<GatedKind, KindRule>;
  /** What a subject with no consent record at all counts as. */
  noRecord: 'deny' | 'allow';
}

/** Loads `consent/gate-policy.yaml` (or another file) and checks it names only known purposes. */
export function loadGatePolicy(purposes: Purpose[], file = path.join(HERE, 'gate-policy.yaml')): GatePolicy {
  const policy = readConsentConfig(file, PolicySchema);
  const names = new Set(purposes.map((p) => p.name));
  for (const [kind, rule] of Object.entries(policy.kinds)) {
    if ('purpose' in rule && !names.has(rule.purpose)) {
      throw new ConsentConfigError(file, `${kind} needs unknown purpose ${rule.purpose}`);
    }
  }
  return policy as GatePolicy;
}

/** A policy that keeps everything: ingestion with the gate off, for comparisons. */
export function openGatePolicy(): GatePolicy {
  const rule: KindRule = { basis: 'legitimate_interest', note: 'gate off' };
  return {
    kinds: Object.fromEntries(GATED_KINDS.map((k) => [k, rule])) as Record<GatedKind, KindRule>,
    noRecord: 'allow',
  };
}

export type GateAction = 'keep' | 'drop' | 'minimise';

export type GateReason =
  | 'no_subject'
  | 'legitimate_interest'
  | 'consent'
  | 'denied'
  | 'withdrawn'
  | 'expired'
  | 'no_record';

/** The gate's answer for one item, with a reason code (bounded, for metrics and logs). Shared: do not mutate. */
export interface GateDecision {
  readonly action: GateAction;
  readonly reason: GateReason;
  /** Why an item is kept without consent (the legitimate interest), from the policy file. */
  readonly note?: string;
}

/** One possible answer for one kind, with the slot that counts it. */
interface Outcome {
  decision: GateDecision;
  counter: number;
}

/** A kind's rule turned into ready answers, so that a lookup allocates nothing. */
interface CompiledRule {
  /** Index of the needed purpose; -1 when the kind needs none. */
  purpose: number;
  legitimate: Outcome;
  noSubject: Outcome;
  noRecord: Outcome;
  consent: Outcome;
  denied: Outcome;
  withdrawn: Outcome;
  expired: Outcome;
}

// Per subject and purpose the gate keeps one number: when granted, the expiry in epoch ms (Infinity without
// one), so "granted and unexpired" is one comparison with now; otherwise one of these.
const NOT_GRANTED = 0;
const WITHDRAWN = -1;
const INITIAL_SLOTS = 1024;

/**
 * Answers, from memory only, whether ingestion may keep an item about a subject. It is loaded from
 * `consent_state` at start and updated by the ledger after every write commits; a lookup is one `Map.get` and
 * one array read, and never touches the database.
 */
export class ConsentGate {
  readonly #purposeIndex: Map<string, number>;
  readonly #width: number;
  /** What the gate knows, per subject and purpose; a load fills a new one and swaps it in. */
  #slots: Slots;
  #rules = {} as Record<GatedKind, CompiledRule>;
  // Decisions are tallied in a plain array and handed to prom-client at scrape time: a labelled `inc` per
  // lookup would cost more than the lookup itself.
  readonly #outcomes: { labels: { kind: GatedKind; action: GateAction; reason: GateReason } }[] = [];
  readonly #outcomeIndex = new Map<string, number>();
  #counts = new Float64Array(64);
  #reported = new Float64Array(64);

  constructor(
    readonly purposes: Purpose[],
    policy: GatePolicy,
    registry: Registry,
  ) {
    this.#purposeIndex = new Map(purposes.map((p, i) => [p.name, i]));
    this.#width = Math.max(1, purposes.length);
    this.#slots = new Slots(this.#width);
    this.usePolicy(policy);
    const gate = this;
    new Counter({
      name: 'vigil_consent_gate_decisions_total',
      help: 'Consent gate answers for ingested items, by kind of data, action and reason.',
      labelNames: ['kind', 'action', 'reason'] as const,
      registers: [registry],
      collect() {
        gate.#outcomes.forEach((outcome, i) => {
          const delta = (gate.#counts[i] ?? 0) - (gate.#reported[i] ?? 0);
          if (delta > 0) this.inc(outcome.labels, delta);
          gate.#reported[i] = gate.#counts[i] ?? 0;
        });
      },
    });
    new Gauge({
      name: 'vigil_consent_granted_share',
      help: 'Share of subjects in the ledger whose consent to each purpose is granted and not expired.',
      labelNames: ['purpose'] as const,
      registers: [registry],
      collect() {
        for (const [purpose, share] of gate.grantedShares(Date.now())) this.set({ purpose }, share);
      },
    });
  }

  /** The purpose items of `kind` need, or undefined when the policy processes them without consent. */
  requiredPurpose(kind: GatedKind): string | undefined {
    const rule = this.#rules[kind];
    return rule.purpose < 0 ? undefined : this.purposes[rule.purpose]?.name;
  }

  /** Replaces the policy (`openGatePolicy()` turns the gate off, for comparisons). */
  usePolicy(policy: GatePolicy): void {
    const rules = {} as Record<GatedKind, CompiledRule>;
    for (const kind of GATED_KINDS) {
      const rule = policy.kinds[kind];
      const outcome = (action: GateAction, reason: GateReason, note?: string) =>
        this.#outcome(kind, note === undefined ? { action, reason } : { action, reason, note });
      if ('basis' in rule) {
        const legitimate = outcome('keep', 'legitimate_interest', rule.note);
        rules[kind] = {
          purpose: -1,
          legitimate,
          noSubject: legitimate,
          noRecord: legitimate,
          consent: legitimate,
          denied: legitimate,
          withdrawn: legitimate,
          expired: legitimate,
        };
        continue;
      }
      const purpose = this.#purposeIndex.get(rule.purpose);
      if (purpose === undefined) throw new Error(`the gate policy names unknown purpose ${rule.purpose}`);
      const consent = outcome('keep', 'consent');
      rules[kind] = {
        purpose,
        legitimate: consent,
        // Ingestion asks only about items that name a subject; one that names none cannot be matched to a
        // consent and carries no subject to protect.
        noSubject: outcome('keep', 'no_subject'),
        noRecord:
          policy.noRecord === 'allow' ? outcome('keep', 'no_record') : outcome(rule.without, 'no_record'),
        consent,
        denied: outcome(rule.without, 'denied'),
        withdrawn: outcome(rule.without, 'withdrawn'),
        expired: outcome(rule.without, 'expired'),
      };
    }
    this.#rules = rules;
  }

  #outcome(kind: GatedKind, decision: GateDecision): Outcome {
    const key = `${kind}|${decision.action}|${decision.reason}`;
    let counter = this.#outcomeIndex.get(key);
    if (counter === undefined) {
      counter = this.#outcomes.length;
      this.#outcomes.push({ labels: { kind, action: decision.action, reason: decision.reason } });
      this.#outcomeIndex.set(key, counter);
      if (counter >= this.#counts.length) {
        this.#counts = grow(this.#counts, this.#counts.length * 2);
        this.#reported = grow(this.#reported, this.#reported.length * 2);
      }
    }
    return { decision: Object.freeze(decision), counter };
  }

  /**
   * The gate's answer for an item of `kind` about `subjectId` (undefined: the item names no subject) at
   * `nowMs` (epoch ms). Memory only; counted in `vigil_consent_gate_decisions_total`.
   */
  decide(kind: GatedKind, subjectId: string | undefined, nowMs: number): GateDecision {
    const rule = this.#rules[kind];
    let outcome: Outcome;
    if (rule.purpose < 0) outcome = rule.legitimate;
    else if (subjectId === undefined) outcome = rule.noSubject;
    else {
      const value = this.#slots.value(subjectId, rule.purpose);
      if (value === undefined) outcome = rule.noRecord;
      else {
        outcome =
          value > nowMs
            ? rule.consent
            : value === WITHDRAWN
              ? rule.withdrawn
              : value === NOT_GRANTED
                ? rule.denied
                : rule.expired;
      }
    }
    this.#counts[outcome.counter] = (this.#counts[outcome.counter] ?? 0) + 1;
    return outcome.decision;
  }

  /**
   * Loads every subject's current state from `consent_state` with one streamed query into a new table, and
   * swaps it in at once: lookups never see a half-loaded gate. Also the full resync of a replica that shares
   * its database with others.
   */
  async load(db: Kysely<Database>): Promise<number> {
    const next = new Slots(this.#width);
    const rows = db
      .selectFrom('consent_state')
      .select(['subject_id', 'purpose', 'status', 'expires_at'])
      .stream();
    for await (const row of rows) this.#record(next, row.subject_id, row.purpose, row.status, row.expires_at);
    this.#slots = next;
    return next.size;
  }

  /** Replaces what the gate knows of some subjects by their rows in `consent_state` (no rows: forgotten). */
  async reload(db: Kysely<Database>, subjectIds: string[]): Promise<void> {
    if (subjectIds.length === 0) return;
    const rows = await db
      .selectFrom('consent_state')
      .select(['subject_id', 'purpose', 'status', 'expires_at'])
      .where('subject_id', 'in', subjectIds)
      .execute();
    for (const subjectId of subjectIds) this.#slots.forget(subjectId);
    for (const row of rows) this.apply(row.subject_id, row.purpose, row.status, row.expires_at);
  }

  /** Records one committed decision in memory; the ledger calls it after its transaction commits. */
  apply(
    subjectId: string,
    purpose: string,
    status: 'granted' | 'denied' | 'withdrawn',
    expiresAt: string | null,
  ): void {
    this.#record(this.#slots, subjectId, purpose, status, expiresAt);
  }

  #record(
    slots: Slots,
    subjectId: string,
    purpose: string,
    status: 'granted' | 'denied' | 'withdrawn',
    expiresAt: string | null,
  ): void {
    const i = this.#purposeIndex.get(purpose);
    if (i === undefined) return;
    slots.set(
      subjectId,
      i,
      status === 'granted'
        ? expiresAt === null
          ? Number.POSITIVE_INFINITY
          : Date.parse(expiresAt)
        : status === 'withdrawn'
          ? WITHDRAWN
          : NOT_GRANTED,
    );
  }

  /** Forgets a subject (erasure): it then counts as having no record. */
  forget(subjectId: string): void {
    this.#slots.forget(subjectId);
  }

  /** Whether the subject's consent to the purpose is granted and unexpired at `nowMs`. */
  granted(subjectId: string, purpose: string, nowMs: number): boolean {
    const i = this.#purposeIndex.get(purpose);
    if (i === undefined) return false;
    return (this.#slots.value(subjectId, i) ?? NOT_GRANTED) > nowMs;
  }

  /** Subjects known to the gate. */
  get size(): number {
    return this.#slots.size;
  }

  /** Per purpose, the share of known subjects whose consent is granted and unexpired. */
  grantedShares(nowMs: number): Map<string, number> {
    const counts = new Array<number>(this.purposes.length).fill(0);
    this.#slots.forEach((values, base) => {
      for (let i = 0; i < counts.length; i += 1) {
        if ((values[base + i] ?? NOT_GRANTED) > nowMs) counts[i] = (counts[i] ?? 0) + 1;
      }
    });
    const total = this.#slots.size;
    return new Map(this.purposes.map((p, i) => [p.name, total === 0 ? 0 : (counts[i] ?? 0) / total]));
  }
}

/** Per subject, one number per purpose, in one growing array: a slot's values sit at `slot * width + purpose`. */
class Slots {
  readonly #slotOf = new Map<string, number>();
  #values: Float64Array;
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;

  constructor(readonly width: number) {
    this.#values = new Float64Array(INITIAL_SLOTS * width);
  }

  get size(): number {
    return this.#slotOf.size;
  }

  /** The subject's number for the purpose at index `i`, or undefined when the subject is unknown. */
  value(subjectId: string, i: number): number | undefined {
    const slot = this.#slotOf.get(subjectId);
    return slot === undefined ? undefined : (this.#values[slot * this.width + i] ?? NOT_GRANTED);
  }

  set(subjectId: string, i: number, value: number): void {
    let slot = this.#slotOf.get(subjectId);
    if (slot === undefined) {
      slot = this.#freeSlots.pop() ?? this.#nextSlot++;
      if ((slot + 1) * this.width > this.#values.length) {
        this.#values = grow(this.#values, this.#values.length * 2);
      }
      this.#values.fill(NOT_GRANTED, slot * this.width, (slot + 1) * this.width);
      this.#slotOf.set(subjectId, slot);
    }
    this.#values[slot * this.width + i] = value;
  }

  forget(subjectId: string): void {
    const slot = this.#slotOf.get(subjectId);
    if (slot === undefined) return;
    this.#slotOf.delete(subjectId);
    this.#freeSlots.push(slot);
  }

  /** Calls `visit` for each known subject with the array and where the subject's numbers start in it. */
  forEach(visit: (values: Float64Array, base: number) => void): void {
    for (const slot of this.#slotOf.values()) visit(this.#values, slot * this.width);
  }
}

function grow(array: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(length);
  bigger.set(array);
  return bigger;
}
