import { type RawBuilder, sql } from 'kysely';
import { eventKey } from '../storage/event-key.ts';
import { OPEN_PRIVACY_REQUEST_STATUSES } from '../storage/privacy.table.ts';

/**
 * What identifies one data subject across the stores: the id the marketplace uses, the pseudonym ingestion puts
 * in its place when consent asks for minimisation (`sub:<keyed hash>`), and keyed hashes of the e-mail address
 * and IP address the DPO was given. Raw e-mail and IP are never needed: no store keeps them.
 */
export interface SubjectKeys {
  subjectId: string;
  subjectPseudonym: string;
  emailHash?: string;
  ipHash?: string;
  /** The privacy request being carried out: its own row is finished by the request, not by the map. */
  requestId?: string;
}

/** What erasure does to a store's rows about the subject. */
type ErasureRule =
  | { action: 'delete' }
  | {
      action: 'pseudonymise';
      /** Why the rows are kept (GDPR Art. 17(3)). */
      basis: string;
      /**
       * The columns replaced, given a fresh pseudonym and the reference of the erasure; undefined when the row
       * holds nothing personal once the rows it points to are pseudonymised (it is then only counted).
       */
      set?: (pseudonym: RawBuilder<string>, by: string) => Record<string, unknown>;
    }
  | { action: 'none'; why: string };

/** One table in the map. */
export interface DataMapEntry {
  table: string;
  /** The data category; each has one retention policy (retention/policies.yaml). */
  category: string;
  /** Whether the table holds personal data at all. */
  personal: boolean;
  description: string;
  /** The columns that hold personal data, and what each holds. */
  columns: Record<string, string>;
  /** Rows are hash-chained: they can be pseudonymised (and marked so) but never deleted. */
  chained?: true;
  /** Tables SQLite maintains from this one (a full-text index and its shadow tables), erased with it. */
  derived?: string[];
  /**
   * A condition on the table's rows that selects one subject's rows, or undefined when the table holds nothing
   * that can be tied to a data subject. Used by the access export and by erasure.
   */
  find?: (keys: SubjectKeys) => RawBuilder<boolean> | undefined;
  /**
   * Rows that are the subject's through its own rows of the same table (the refunds of its orders, the
   * anonymous rows of its browser sessions). Erasure deletes them in a pass of their own before the rows
   * `find` selects, so that they can still be reached when a run is repeated after a failure.
   */
  linked?: (keys: SubjectKeys) => RawBuilder<boolean> | undefined;
  erasure: ErasureRule;
  /**
   * How retention finds expired rows: the column holding the row's age, and rows that stay regardless (for a
   * pseudonymising policy, rows already pseudonymised).
   */
  age?: {
    column: string;
    keep?: RawBuilder<boolean>;
    /**
     * Rows arrive in the age column's order (it is the time Vigil received them), so rowid order is age order:
     * retention needs no index — it reads from the oldest rowid and stops at the first row not yet due.
     */
    arrivalOrdered?: true;
  };
}

const SUBJECT_TARGET = 'subject:';

function anyOf(...conditions: (RawBuilder<boolean> | undefined)[]): RawBuilder<boolean> | undefined {
  const present = conditions.filter((c): c is RawBuilder<boolean> => c !== undefined);
  if (present.length === 0) return undefined;
  return sql<boolean>`(${sql.join(present, sql` or `)})`;
}

const affiliateOfSubject = (keys: SubjectKeys) =>
  sql<boolean>`affiliate_id in (select id from affiliates where subject_id = ${keys.subjectId})`;

const payoutOfSubject = (keys: SubjectKeys) =>
  sql<boolean>`payout_id in (select id from payouts where affiliate_id in (select id from affiliates where subject_id = ${keys.subjectId}))`;

/**
 * Every table Vigil keeps, in the order erasure runs: rows that are found through another table's row (coupons
 * and payouts through their affiliate) come before that row is pseudonymised; privacy requests come last. A
 * test fails when the database holds a table this map does not name.
 */
export const DATA_MAP: readonly DataMapEntry[] = [
  {
    table: 'affiliate_events',
    category: 'affiliate-events',
    personal: true,
    description:
      'Clicks, conversions and refunds reported by the marketplace, for attribution and fraud checks',
    columns: {
      subject_id: 'the customer, or its pseudonym when consent asked for minimisation',
      ip_hash: 'keyed hash of the IP address',
      ip_prefix: 'the IP network (/24, /48)',
      user_agent: 'browser user agent',
      subject_key: 'integer key of subject_id, which its index holds (deleted with the row)',
      ip_key: 'integer key of ip_hash, which its index holds (deleted with the row)',
    },
    // Identifiers are indexed by their integer keys (storage/event-key.ts), so each is found by key and text.
    find: (k) =>
      anyOf(
        sql<boolean>`(subject_key in (${eventKey(k.subjectId)}, ${eventKey(k.subjectPseudonym)})
          and subject_id in (${k.subjectId}, ${k.subjectPseudonym}))`,
        // By IP only where no other subject is named: a shared address does not make another person's
        // events this subject's.
        k.ipHash === undefined
          ? undefined
          : sql<boolean>`(ip_key = ${eventKey(k.ipHash)} and ip_hash = ${k.ipHash} and subject_id is null)`,
      ),
    // A refund names no subject, only the order of the subject's conversion (and its free-text reason).
    linked: (k) => sql<boolean>`(type = 'refund' and order_key in (
        select order_key from affiliate_events where type = 'conversion' and order_key is not null
          and subject_key in (${eventKey(k.subjectId)}, ${eventKey(k.subjectPseudonym)})
          and subject_id in (${k.subjectId}, ${k.subjectPseudonym}))
      and order_id in (
        select order_id from affiliate_events where type = 'conversion' and order_id is not null
          and subject_key in (${eventKey(k.subjectId)}, ${eventKey(k.subjectPseudonym)})
          and subject_id in (${k.subjectId}, ${k.subjectPseudonym})))`,
    erasure: { action: 'delete' },
    age: { column: 'received_at', arrivalOrdered: true },
  },
  {
    table: 'browser_telemetry',
    category: 'browser-telemetry',
    personal: true,
    description: 'Logs, exceptions, measurements, events and spans sent by the Faro SDK',
    columns: {
      user_id: "the signed-in user's id (meta.user.id), or the subject of the payload's consent reference",
      session_id: 'the browser session (a per-visit pseudonym under the audience-measurement exemption)',
      page_url: 'page address without its query string but allow-listed keys, scrubbed',
      message: 'free text written by the page, scrubbed (e-mail and IP addresses as keyed-hash tokens)',
      detail: 'context, attributes and stack frames, scrubbed the same way',
    },
    // The subject's rows, and any row whose scrubbed text carries the token of its e-mail or IP address.
    find: (k) =>
      anyOf(
        sql<boolean>`user_id = ${k.subjectId}`,
        ...[k.emailHash, k.ipHash].map((hash) =>
          hash === undefined
            ? undefined
            : sql<boolean>`(instr(message, ${hash}) > 0 or instr(detail, ${hash}) > 0
                or instr(page_url, ${hash}) > 0)`,
        ),
      ),
    // Rows sent before the visitor signed in, or without its id, share the session of its own rows.
    linked: (k) => sql<boolean>`(session_id in (
        select session_id from browser_telemetry where user_id = ${k.subjectId} and session_id is not null)
      and user_id is null)`,
    erasure: { action: 'delete' },
    age: { column: 'ts' },
  },
  {
    table: 'server_logs',
    category: 'server-logs',
    personal: true,
    description:
      "The marketplace's server logs; e-mail and IP addresses replaced by keyed-hash tokens at ingest",
    columns: {
      message: 'free text; may name a subject id or carry e-mail/IP hash tokens',
      attrs: 'structured attributes, scrubbed the same way',
    },
    derived: ['server_logs_fts'],
    // Found through the full-text index (retention/log-mentions.ts), not by a column condition.
    find: () => undefined,
    erasure: { action: 'delete' },
    age: { column: 'ts' },
  },
  {
    table: 'consent_state',
    category: 'consent-state',
    personal: true,
    description: "Each subject's current consent per purpose, derived from the ledger",
    columns: { subject_id: 'the subject' },
    find: (k) => sql<boolean>`subject_id = ${k.subjectId}`,
    erasure: { action: 'delete' },
    // A current grant is kept; what was denied, withdrawn or expired long ago is not.
    age: { column: 'since', keep: sql<boolean>`status = 'granted'` },
  },
  {
    table: 'consent_records',
    category: 'consent-proof',
    personal: true,
    description: 'The hash-chained consent ledger: every decision with its proof',
    chained: true,
    columns: {
      subject_id: 'the subject',
      proof_ip_hash: 'keyed hash of the IP the decision came from',
      proof_user_agent: 'browser user agent',
      proof_page_url: 'page address without its query string',
    },
    find: (k) => sql<boolean>`subject_id = ${k.subjectId}`,
    erasure: {
      action: 'pseudonymise',
      basis:
        'Art. 7(1) and 17(3)(e): proof that processing before the erasure had consent; the decision stays, ' +
        'the person does not',
      set: (pseudonym, by) => ({
        subject_id: sql`'erased:' || ${pseudonym}`,
        proof_ip_hash: null,
        proof_user_agent: null,
        proof_page_url: null,
        redacted_by: by,
      }),
    },
    // A record that is still some subject's current state is its proof, and stays.
    age: {
      column: 'recorded_at',
      keep: sql<boolean>`(redacted_by is not null or id in (select record_id from consent_state))`,
    },
  },
  {
    table: 'affiliate_coupons',
    category: 'affiliate-profile',
    personal: true,
    description: "An affiliate's creator codes (often the creator's name)",
    columns: { code: 'coupon code' },
    find: affiliateOfSubject,
    erasure: { action: 'delete' },
  },
  {
    table: 'payouts',
    category: 'payouts',
    personal: true,
    description: 'Payout requests of affiliates with their amounts and decisions',
    columns: { affiliate_id: 'the affiliate (a person when the affiliate is a creator)' },
    find: affiliateOfSubject,
    erasure: {
      action: 'pseudonymise',
      basis:
        'Art. 17(3)(b): accounting and tax law keep payment records; they stay with their amounts, tied ' +
        'only to the pseudonymised affiliate',
    },
    age: { column: 'created_at' },
  },
  {
    table: 'fraud_scores',
    category: 'payouts',
    personal: true,
    description: "Each payout's fraud score, reasons and the affiliate's feature values behind them",
    columns: { affiliate_id: 'the affiliate', features: "the affiliate's traffic profile in the period" },
    find: affiliateOfSubject,
    erasure: {
      action: 'pseudonymise',
      basis:
        'Art. 17(3)(e): fraud decisions are kept for legal claims, tied only to the pseudonymised affiliate',
    },
  },
  {
    table: 'payout_reviews',
    category: 'payouts',
    personal: true,
    description: "Analysts' decisions on payouts: status, note, who decided and when, who is assigned",
    columns: { note: "the analyst's note (scrubbed), which may describe the affiliate" },
    find: payoutOfSubject,
    erasure: {
      action: 'pseudonymise',
      basis:
        'Art. 17(3)(e): fraud decisions are kept for legal claims; the note that may describe the affiliate goes',
      set: () => ({ note: null }),
    },
    age: { column: 'updated_at' },
  },
  {
    table: 'payout_events',
    category: 'payouts',
    personal: true,
    description: "Each payout's history: scores, assignments, decisions with their notes, payment",
    columns: { note: "a decision's note (scrubbed), which may describe the affiliate" },
    find: payoutOfSubject,
    erasure: {
      action: 'pseudonymise',
      basis: 'Art. 17(3)(e): the history of a fraud decision is kept for legal claims, without its notes',
      set: () => ({ note: null }),
    },
    age: { column: 'at' },
  },
  {
    table: 'webhook_deliveries',
    category: 'webhook-deliveries',
    personal: true,
    description:
      'Decisions posted to the marketplace: the payout, affiliate, decision and note, until delivered',
    columns: { payload: 'the affiliate id and the decision note' },
    find: payoutOfSubject,
    erasure: { action: 'delete' },
    age: { column: 'created_at' },
  },
  {
    table: 'affiliates',
    category: 'affiliate-profile',
    personal: true,
    description: 'Affiliates (creators, publishers) with their own subject id and payout account',
    columns: {
      name: 'display name or handle',
      subject_id: "the affiliate's own subject id",
      payout_account_hash: 'keyed hash of the payout account',
    },
    find: (k) => sql<boolean>`subject_id = ${k.subjectId}`,
    erasure: {
      action: 'pseudonymise',
      basis: 'Art. 17(3)(b) and (e): payouts and fraud decisions refer to the affiliate and must stay whole',
      set: (pseudonym) => ({
        name: sql`'erased:' || ${pseudonym}`,
        subject_id: null,
        payout_account_hash: null,
      }),
    },
    age: { column: 'updated_at', keep: sql<boolean>`name like 'erased:%'` },
  },
  {
    table: 'audit_log',
    category: 'audit-trail',
    personal: true,
    description: 'Who changed what and when: hash-chained, append-only',
    chained: true,
    columns: { actor: "the staff member's API key name", target: 'may name a subject (subject:<id>)' },
    find: (k) => sql<boolean>`target = ${`${SUBJECT_TARGET}${k.subjectId}`}`,
    erasure: {
      action: 'pseudonymise',
      basis: 'Art. 5(2) and 17(3)(e): accountability for every change; the entry stays, the subject does not',
      set: (pseudonym, by) => ({ target: sql`'subject:erased:' || ${pseudonym}`, redacted_by: by }),
    },
    // Only entries about a subject hold more than staff names; those are pseudonymised once old.
    age: {
      column: 'at',
      keep: sql<boolean>`(redacted_by is not null or target not like ${`${SUBJECT_TARGET}%`})`,
    },
  },
  {
    table: 'api_keys',
    category: 'credentials',
    personal: true,
    description: "Staff and services' API keys, stored hashed, named after their holder",
    columns: { name: 'key name, often a person' },
    erasure: { action: 'none', why: "staff credentials, not data about the marketplace's data subjects" },
    // Live keys stay; a revoked key's name goes once the audit trail no longer needs to resolve it.
    age: { column: 'revoked_at', keep: sql<boolean>`revoked_at is null` },
  },
  {
    table: 'review_sessions',
    category: 'credentials',
    personal: true,
    description: "Signed-in analysts' review UI sessions: the key's name and role, hashed token, expiry",
    columns: { key_name: 'key name, often a person' },
    erasure: { action: 'none', why: "staff sessions, not data about the marketplace's data subjects" },
    age: { column: 'expires_at' },
  },
  {
    table: 'webhook_endpoints',
    category: 'configuration',
    personal: false,
    description: "The installation's webhook URL and signing secret",
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
  },
  {
    table: 'search_shipping',
    category: 'operations',
    personal: false,
    description:
      'How far server logs and browser telemetry have been written to OpenSearch (a row id per kind)',
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
  },
  {
    table: 'faro_apps',
    category: 'configuration',
    personal: false,
    description: 'Registered browser apps with their hashed keys and allowed origins',
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
  },
  {
    table: 'fraud_models',
    category: 'fraud-models',
    personal: false,
    description: 'Fitted fraud models: split features, thresholds and population quantiles, no training row',
    columns: {},
    erasure: { action: 'none', why: 'model parameters only' },
    // The newest model, and every model that scored a payout (to reproduce its score), stay.
    age: {
      column: 'created_at',
      keep: sql<boolean>`(version = (select max(version) from fraud_models)
        or version in (select model_version from fraud_scores where model_version is not null))`,
    },
  },
  {
    table: 'route_minute_batches',
    category: 'traffic-aggregates',
    personal: false,
    description:
      'Requests per log batch, minute, service and route template (count, 5xx, latency histogram), for the traffic detector; templates hold no identifier',
    columns: {},
    erasure: { action: 'none', why: 'counts per route template only' },
    age: { column: 'minute' },
  },
  {
    table: 'traffic_minutes',
    category: 'traffic-aggregates',
    personal: false,
    description: 'Web vitals per page route and clicks per campaign, per minute, for the traffic detector',
    columns: {},
    erasure: { action: 'none', why: 'counts and percentiles per page route or campaign only' },
    age: { column: 'minute' },
  },
  {
    table: 'anomalies',
    category: 'operations',
    personal: false,
    description: 'Traffic bottlenecks found: route or page, signal, times, values, campaign',
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
    age: { column: 'start' },
  },
  {
    table: 'faro_idempotency',
    category: 'operations',
    personal: false,
    description: 'Idempotency keys of recent Faro batches',
    columns: {},
    erasure: { action: 'none', why: 'random keys only' },
    age: { column: 'created_at' },
  },
  {
    table: 'event_journal_applied',
    category: 'operations',
    personal: false,
    description:
      'The last entry of the event journal applied to affiliate_events. The journal itself is segment files in event-journal/ holding minimised event rows (as affiliate_events does); a segment ends within 60 s and is deleted once every entry in it is applied, and erasure deletes every segment with an applied entry',
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
  },
  {
    table: 'job_leases',
    category: 'operations',
    personal: false,
    description: 'Which process runs a scheduled job',
    columns: {},
    erasure: { action: 'none', why: 'no personal data' },
  },
  {
    table: 'job_runs',
    category: 'operations',
    personal: false,
    description: 'Scheduled and requested job runs with their counts',
    columns: {},
    erasure: { action: 'none', why: 'counts only' },
    age: { column: 'started_at' },
  },
  {
    table: 'privacy_request_steps',
    category: 'privacy-requests',
    personal: false,
    description: 'What processing a privacy request did in each store (counts, no personal data)',
    columns: {},
    erasure: { action: 'none', why: 'counts only; deleted with their request' },
  },
  {
    table: 'privacy_requests',
    category: 'privacy-requests',
    personal: true,
    description: "Data subjects' access and erasure requests",
    columns: {
      subject_id: 'the subject',
      email_hash: 'keyed hash of the e-mail address given',
      ip_hash: 'keyed hash of the IP address given',
      note: "the DPO's note",
    },
    find: (k) => sql<boolean>`subject_id = ${k.subjectId} and id <> ${k.requestId ?? ''}`,
    erasure: {
      action: 'pseudonymise',
      basis: 'Art. 5(2) and 12: proof that each request was answered, and when',
      set: () => ({ subject_id: null, email_hash: null, ip_hash: null, note: null }),
    },
    // Open requests stay whatever their age.
    age: {
      column: 'received_at',
      keep: sql<boolean>`status in (${sql.join(OPEN_PRIVACY_REQUEST_STATUSES)})`,
    },
  },
];

/** Tables SQLite and the migrator keep for themselves. */
export const INTERNAL_TABLE = /^(sqlite_|kysely_migration)/;

/** The map entry a table belongs to: its own, or the entry whose derived index it is part of. */
export function entryOfTable(table: string): DataMapEntry | undefined {
  return DATA_MAP.find(
    (e) => e.table === table || (e.derived ?? []).some((d) => table === d || table.startsWith(`${d}_`)),
  );
}

/** Every data category the map names. */
export function mappedCategories(): string[] {
  return [...new Set(DATA_MAP.map((e) => e.category))].sort();
}
