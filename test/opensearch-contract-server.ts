// A stand-in for OpenSearch in contract tests, not OpenSearch: an in-memory HTTP server on 127.0.0.1 that answers
// the REST calls Vigil makes in the request and response formats the OpenSearch documentation gives — composable
// index templates (`PUT/GET _index_template/<name>`, applied to an index when it is created), Index State
// Management policies (`PUT/GET _plugins/_ism/policies/<id>`, with `if_seq_no`/`if_primary_term`), `_bulk`
// (NDJSON `index`/`create`/`delete`, per-item status and errors), `_search` (bool filter/must/must_not/should
// over term, terms, range, match, simple_query_string, exists, ids; sort, size, from, search_after,
// track_total_hits), `_delete_by_query`, `_cat/indices` and `DELETE <index>`, with wildcards in index names.
// Mappings are enforced as OpenSearch does on write (`dynamic: strict` refuses an unknown field, values must fit
// their type). What it does not do: analysis beyond lower-cased runs of letters, digits and underscores (the
// standard analyzer splits differently around `.`, `'` and `:`), scoring, date math, aggregations, shards,
// replicas and refresh intervals (every write is visible at once). Tests may stop and start it on the same port
// to simulate an outage, fail the next bulk calls, and read how many calls of each kind it answered.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An error answered in OpenSearch's shape: `{ error: { root_cause, type, reason }, status }`. */
class OpenSearchError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
    readonly extra: JsonObject = {},
  ) {
    super(reason);
  }

  get body() {
    return { type: this.type, reason: this.message, ...this.extra };
  }
}

interface FieldMapping {
  type?: string;
  enabled?: boolean;
  dynamic?: boolean | string;
  ignore_above?: number;
  properties?: Record<string, FieldMapping>;
  fields?: Record<string, FieldMapping>;
}

interface StoredDocument {
  source: JsonObject;
  version: number;
  seqNo: number;
}

interface Index {
  name: string;
  uuid: string;
  mappings: FieldMapping;
  settings: JsonObject;
  docs: Map<string, StoredDocument>;
  deleted: number;
}

interface Policy {
  body: JsonObject;
  version: number;
  seqNo: number;
  updatedAt: number;
}

/** How many calls of each kind the server answered (failed ones included). */
interface CallCounts {
  putIndexTemplate: number;
  getIndexTemplate: number;
  putPolicy: number;
  getPolicy: number;
  bulk: number;
  search: number;
  deleteByQuery: number;
  catIndices: number;
  deleteIndex: number;
  /** Every request, answered or not understood. */
  total: number;
}

const NUMERIC_TYPES = new Set([
  'integer',
  'long',
  'short',
  'byte',
  'double',
  'float',
  'half_float',
  'scaled_float',
]);
const FIELD_TYPES = new Set([
  ...NUMERIC_TYPES,
  'keyword',
  'text',
  'date',
  'boolean',
  'object',
  'ip',
  'flat_object',
]);
const ISM_ACTIONS = new Set([
  'delete',
  'rollover',
  'read_only',
  'read_write',
  'replica_count',
  'force_merge',
  'close',
  'open',
  'notification',
  'snapshot',
  'index_priority',
  'allocation',
  'shrink',
]);
const MAX_RESULT_WINDOW = 10_000;
const DEFAULT_TRACKED_HITS = 10_000;

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

function invalidIndexName(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/^[_\-+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (/[\\/*?"<>| ,#:]/.test(name))
    return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]';
  if (name === '.' || name === '..' || name === '') return "must not be '.' or '..'";
  return undefined;
}

/** Lower-cased runs of letters, digits and underscores: a plain stand-in for the standard analyzer. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((w) => w !== '');
}

function dateMillis(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** The leaf values at a dotted path, arrays (of values or of objects) flattened. */
function valuesAt(source: unknown, path: string[]): unknown[] {
  if (path.length === 0) {
    if (Array.isArray(source)) return source.flatMap((v) => valuesAt(v, []));
    return source === null || source === undefined ? [] : [source];
  }
  if (Array.isArray(source)) return source.flatMap((v) => valuesAt(v, path));
  if (!isObject(source)) return [];
  const [head, ...rest] = path;
  return head === undefined ? [] : valuesAt(source[head], rest);
}

/** The mapping of a dotted field in an index, and the source path its values come from (multi-fields). */
function fieldAt(index: Index, field: string): { mapping: FieldMapping; path: string[] } | undefined {
  const parts = field.split('.');
  let node: FieldMapping = index.mappings;
  const path: string[] = [];
  for (const part of parts) {
    const child: FieldMapping | undefined = node.properties?.[part] ?? node.fields?.[part];
    if (child === undefined) return undefined;
    if (node.properties?.[part] !== undefined) path.push(part);
    node = child;
  }
  return { mapping: node, path };
}

function inferMapping(value: unknown): FieldMapping | undefined {
  const sample = Array.isArray(value) ? value.find((v) => v !== null) : value;
  if (sample === undefined || sample === null) return undefined;
  if (typeof sample === 'boolean') return { type: 'boolean' };
  if (typeof sample === 'number') return { type: Number.isInteger(sample) ? 'long' : 'float' };
  if (typeof sample === 'string') {
    if (dateMillis(sample) !== undefined) return { type: 'date' };
    return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
  }
  return { properties: {} };
}

/** Checks a document against an index's mappings as a write does, adding dynamic fields where allowed. */
function parseDocument(index: Index, source: JsonObject, id: string) {
  const preview = (value: unknown) => JSON.stringify(value).slice(0, 40);
  const visit = (mapping: FieldMapping, value: JsonObject, where: string, inherited: boolean | string) => {
    const dynamic = mapping.dynamic ?? inherited;
    for (const [key, v] of Object.entries(value)) {
      const full = where === '' ? key : `${where}.${key}`;
      let field = mapping.properties?.[key];
      if (field === undefined) {
        if (v === null) continue;
        if (dynamic === 'strict') {
          throw new OpenSearchError(
            400,
            'strict_dynamic_mapping_exception',
            `mapping set to strict, dynamic introduction of [${key}] within [${where === '' ? '_doc' : where}] is not allowed`,
          );
        }
        if (dynamic === false || dynamic === 'false') continue;
        field = inferMapping(v);
        if (field === undefined) continue;
        mapping.properties = { ...mapping.properties, [key]: field };
      }
      check(field, v, full, dynamic);
    }
  };
  const check = (field: FieldMapping, value: unknown, full: string, dynamic: boolean | string) => {
    if (value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) check(field, v, full, dynamic);
      return;
    }
    const type = field.type ?? 'object';
    const fail = () => {
      throw new OpenSearchError(
        400,
        'mapper_parsing_exception',
        `failed to parse field [${full}] of type [${type}] in document with id '${id}'. Preview of field's value: '${preview(value)}'`,
      );
    };
    if (type === 'object') {
      if (field.enabled === false) return;
      if (!isObject(value)) {
        throw new OpenSearchError(
          400,
          'mapper_parsing_exception',
          `object mapping for [${full}] tried to parse field [${full}] as object, but found a concrete value`,
        );
      }
      visit(field, value, full, dynamic);
    } else if (type === 'flat_object') {
      if (!isObject(value)) fail();
    } else if (isObject(value)) {
      fail();
    } else if (type === 'date') {
      if (dateMillis(value) === undefined) fail();
    } else if (NUMERIC_TYPES.has(type)) {
      if (numberOf(value) === undefined) fail();
    } else if (type === 'boolean') {
      if (value !== true && value !== false && value !== 'true' && value !== 'false') fail();
    }
  };
  visit(index.mappings, source, '', index.mappings.dynamic ?? true);
}

function validateMappings(mapping: FieldMapping, where: string) {
  for (const [name, field] of Object.entries(mapping.properties ?? {})) {
    const full = where === '' ? name : `${where}.${name}`;
    if (!isObject(field))
      throw new OpenSearchError(400, 'mapper_parsing_exception', `Expected map for property [${full}]`);
    if (field.type !== undefined && !FIELD_TYPES.has(String(field.type))) {
      throw new OpenSearchError(
        400,
        'mapper_parsing_exception',
        `No handler for type [${String(field.type)}] declared on field [${full}]`,
      );
    }
    if (isObject(field.properties)) validateMappings(field, full);
  }
  const dynamic = mapping.dynamic;
  if (dynamic !== undefined && ![true, false, 'true', 'false', 'strict'].includes(dynamic)) {
    throw new OpenSearchError(
      400,
      'mapper_parsing_exception',
      `Could not convert [dynamic] to boolean or 'strict'`,
    );
  }
}

type Comparable = number | string | boolean | null;

/** A sort key's value in a hit: dates as epoch milliseconds, as OpenSearch answers them. */
function sortValue(index: Index, field: string, source: JsonObject, order: 'asc' | 'desc'): Comparable {
  if (field === '_doc' || field === '_score') return null;
  const found = fieldAt(index, field);
  if (found === undefined) return null;
  const type = found.mapping.type ?? 'object';
  const values = valuesAt(source, found.path)
    .map((v): Comparable => {
      if (type === 'date') return dateMillis(v) ?? null;
      if (NUMERIC_TYPES.has(type)) return numberOf(v) ?? null;
      if (type === 'boolean') return v === true || v === 'true';
      return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
    })
    .filter((v) => v !== null);
  if (values.length === 0) return null;
  // A field with many values sorts by its least ascending and its greatest descending.
  return values.reduce((a, b) => (compareValues(a, b) < 0 === (order === 'asc') ? a : b));
}

function compareValues(a: Comparable, b: Comparable): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

interface SortKey {
  field: string;
  order: 'asc' | 'desc';
}

function parseSort(spec: unknown): SortKey[] {
  if (spec === undefined) return [];
  const list = Array.isArray(spec) ? spec : [spec];
  return list.map((item): SortKey => {
    if (typeof item === 'string') return { field: item, order: item === '_score' ? 'desc' : 'asc' };
    if (isObject(item)) {
      const entries = Object.entries(item);
      const [field, how] = entries[0] ?? [];
      if (entries.length === 1 && field !== undefined) {
        const order = isObject(how) ? how.order : how;
        if (order === undefined || order === 'asc' || order === 'desc') {
          return { field, order: order ?? (field === '_score' ? 'desc' : 'asc') };
        }
      }
    }
    throw new OpenSearchError(400, 'parsing_exception', `[sort] malformed: ${JSON.stringify(item)}`);
  });
}

function compareTuples(a: Comparable[], b: Comparable[], keys: SortKey[]): number {
  for (const [i, key] of keys.entries()) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    // Missing values sort last in either order (`missing: _last`).
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
      continue;
    }
    const c = compareValues(x, y);
    if (c !== 0) return key.order === 'asc' ? c : -c;
  }
  return 0;
}

function singleEntry(clause: unknown, name: string): [string, unknown] {
  if (!isObject(clause))
    throw new OpenSearchError(400, 'parsing_exception', `[${name}] query malformed, no start_object`);
  const entries = Object.entries(clause);
  const first = entries[0];
  if (entries.length !== 1 || first === undefined) {
    throw new OpenSearchError(400, 'parsing_exception', `[${name}] query doesn't support multiple fields`);
  }
  return first;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Whether one indexed value equals a term, as the field's type compares them. */
function termMatches(mapping: FieldMapping, value: unknown, term: unknown): boolean {
  const type = mapping.type ?? 'object';
  if (type === 'text') return typeof value === 'string' && words(value).includes(String(term));
  if (type === 'date') {
    const a = dateMillis(value);
    return a !== undefined && a === dateMillis(term);
  }
  if (NUMERIC_TYPES.has(type)) {
    const a = numberOf(value);
    return a !== undefined && a === numberOf(term);
  }
  if (type === 'boolean') return String(value) === String(term);
  if (type === 'keyword') {
    const text = String(value);
    if (mapping.ignore_above !== undefined && text.length > mapping.ignore_above) return false;
    return text === String(term);
  }
  return false;
}

/** The fields a query string searches when it names none (`index.query.default_field: *`). */
function searchableFields(mapping: FieldMapping, prefix: string): string[] {
  const out: string[] = [];
  for (const [name, field] of Object.entries(mapping.properties ?? {})) {
    const full = prefix === '' ? name : `${prefix}.${name}`;
    if (field.type === 'text' || field.type === 'keyword') out.push(full);
    if (field.properties !== undefined && field.enabled !== false) out.push(...searchableFields(field, full));
  }
  return out;
}

function matchesQuery(index: Index, doc: { id: string; source: JsonObject }, query: unknown): boolean {
  const [kind, body] = singleEntry(query ?? { match_all: {} }, 'query');
  // An unmapped field holds no indexed values: every query on it finds nothing.
  const valuesOf = (field: string): { mapping: FieldMapping; values: unknown[] } => {
    const found = fieldAt(index, field);
    return found === undefined
      ? { mapping: { enabled: false }, values: [] }
      : { mapping: found.mapping, values: valuesAt(doc.source, found.path) };
  };
  const wordMatch = (field: string, queryWords: string[], operator: string) => {
    const found = valuesOf(field);
    const has = (w: string) =>
      found.values.some((v) =>
        found.mapping.type === 'text'
          ? typeof v === 'string' && words(v).includes(w)
          : termMatches(found.mapping, v, w),
      );
    if (queryWords.length === 0) return false;
    return operator === 'and' ? queryWords.every(has) : queryWords.some(has);
  };
  switch (kind) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'bool': {
      if (!isObject(body)) throw new OpenSearchError(400, 'parsing_exception', '[bool] malformed');
      const known = new Set(['filter', 'must', 'must_not', 'should', 'minimum_should_match', 'boost']);
      for (const key of Object.keys(body)) {
        if (!known.has(key))
          throw new OpenSearchError(400, 'parsing_exception', `[bool] query does not support [${key}]`);
      }
      const required = [...asList(body.filter), ...asList(body.must)];
      const should = asList(body.should);
      const minimum =
        numberOf(body.minimum_should_match) ?? (required.length === 0 && should.length > 0 ? 1 : 0);
      return (
        required.every((q) => matchesQuery(index, doc, q)) &&
        !asList(body.must_not).some((q) => matchesQuery(index, doc, q)) &&
        should.filter((q) => matchesQuery(index, doc, q)).length >= minimum
      );
    }
    case 'term': {
      const [field, spec] = singleEntry(body, 'term');
      const term = isObject(spec) ? spec.value : spec;
      if (term === undefined || isObject(term) || Array.isArray(term)) {
        throw new OpenSearchError(400, 'parsing_exception', '[term] query malformed, no value');
      }
      const found = valuesOf(field);
      return found.values.some((v) => termMatches(found.mapping, v, term));
    }
    case 'terms': {
      const [field, terms] = singleEntry(body, 'terms');
      if (!Array.isArray(terms)) {
        throw new OpenSearchError(400, 'parsing_exception', `[terms] query does not support [${field}]`);
      }
      const found = valuesOf(field);
      return found.values.some((v) => terms.some((t) => termMatches(found.mapping, v, t)));
    }
    case 'ids': {
      const values = isObject(body) ? body.values : undefined;
      if (!Array.isArray(values))
        throw new OpenSearchError(400, 'parsing_exception', '[ids] query malformed');
      return values.map(String).includes(doc.id);
    }
    case 'exists': {
      const field = isObject(body) ? body.field : undefined;
      if (typeof field !== 'string')
        throw new OpenSearchError(400, 'parsing_exception', '[exists] must be provided with a [field]');
      const found = valuesOf(field);
      return found.mapping.enabled !== false && found.values.length > 0;
    }
    case 'range': {
      const [field, bounds] = singleEntry(body, 'range');
      if (!isObject(bounds)) throw new OpenSearchError(400, 'parsing_exception', '[range] query malformed');
      const found = valuesOf(field);
      const type = found.mapping.type ?? 'object';
      const toComparable = (v: unknown): number | string => {
        const parsed = type === 'date' ? dateMillis(v) : NUMERIC_TYPES.has(type) ? numberOf(v) : undefined;
        if (parsed !== undefined) return parsed;
        if (type === 'keyword' && (typeof v === 'string' || typeof v === 'number')) return String(v);
        throw new OpenSearchError(
          400,
          'parse_exception',
          `failed to parse [${String(v)}] for field [${field}] of type [${type}]`,
        );
      };
      const checks: [string, (c: number) => boolean][] = [
        ['gte', (c) => c >= 0],
        ['gt', (c) => c > 0],
        ['lte', (c) => c <= 0],
        ['lt', (c) => c < 0],
      ];
      return found.values.some((v) => {
        const value = toComparable(v);
        return checks.every(([op, ok]) => {
          if (bounds[op] === undefined || bounds[op] === null) return true;
          const bound = toComparable(bounds[op]);
          const c =
            typeof value === 'number' && typeof bound === 'number'
              ? value - bound
              : value < bound
                ? -1
                : value > bound
                  ? 1
                  : 0;
          return ok(c);
        });
      });
    }
    case 'match': {
      const [field, spec] = singleEntry(body, 'match');
      const text = isObject(spec) ? spec.query : spec;
      const operator =
        isObject(spec) && typeof spec.operator === 'string' ? spec.operator.toLowerCase() : 'or';
      if (typeof text !== 'string' && typeof text !== 'number') {
        throw new OpenSearchError(400, 'parsing_exception', '[match] requires query value');
      }
      return wordMatch(field, words(String(text)), operator);
    }
    case 'simple_query_string': {
      if (!isObject(body) || typeof body.query !== 'string') {
        throw new OpenSearchError(400, 'parsing_exception', '[simple_query_string] requires query value');
      }
      // Minimal: the words of the query (its operators dropped), each looked for in the fields.
      const queryWords = words(body.query.replace(/[+\-|"*()~]/g, ' '));
      const fields = Array.isArray(body.fields)
        ? body.fields.map((f) => String(f).replace(/\^[\d.]+$/, ''))
        : searchableFields(index.mappings, '');
      const operator = typeof body.default_operator === 'string' ? body.default_operator.toLowerCase() : 'or';
      if (queryWords.length === 0) return false;
      const inAnyField = (w: string) => fields.some((f) => wordMatch(f, [w], 'or'));
      return operator === 'and' ? queryWords.every(inAnyField) : queryWords.some(inAnyField);
    }
    default:
      throw new OpenSearchError(400, 'parsing_exception', `unknown query [${kind}]`, { line: 1, col: 1 });
  }
}

function policyResponse(id: string, policy: Policy) {
  const body = isObject(policy.body.policy) ? policy.body.policy : {};
  // As the GET of a real cluster: the id, times and schema version added, actions with their retry settings.
  const states = asList(body.states).map((s) =>
    isObject(s)
      ? {
          ...s,
          actions: asList(s.actions).map((a) =>
            isObject(a) ? { retry: { count: 3, backoff: 'exponential', delay: '1m' }, ...a } : a,
          ),
        }
      : s,
  );
  return {
    policy_id: id,
    description: body.description ?? '',
    last_updated_time: policy.updatedAt,
    schema_version: 17,
    error_notification: body.error_notification ?? null,
    default_state: body.default_state,
    states,
    ism_template: asList(body.ism_template).map((t) =>
      isObject(t) ? { ...t, last_updated_time: policy.updatedAt } : t,
    ),
  };
}

function validatePolicy(body: unknown) {
  const policy = isObject(body) ? body.policy : undefined;
  if (!isObject(policy))
    throw new OpenSearchError(400, 'illegal_argument_exception', 'Request body is missing the policy');
  const states = asList(policy.states);
  const names = new Set(states.map((s) => (isObject(s) ? s.name : undefined)));
  if (states.length === 0)
    throw new OpenSearchError(400, 'illegal_argument_exception', 'Policy must have at least one state');
  if (typeof policy.default_state !== 'string' || !names.has(policy.default_state)) {
    throw new OpenSearchError(400, 'illegal_argument_exception', 'Policy must have a valid default state');
  }
  for (const state of states) {
    if (!isObject(state) || typeof state.name !== 'string') {
      throw new OpenSearchError(400, 'illegal_argument_exception', 'Every state must have a name');
    }
    for (const action of asList(state.actions)) {
      const type = isObject(action)
        ? Object.keys(action).find((k) => !['retry', 'timeout'].includes(k))
        : undefined;
      if (type === undefined || !ISM_ACTIONS.has(type)) {
        throw new OpenSearchError(
          400,
          'illegal_argument_exception',
          `Invalid field: [${String(type)}] found in Actions.`,
        );
      }
    }
    for (const transition of asList(state.transitions)) {
      if (!isObject(transition) || !names.has(transition.state_name)) {
        throw new OpenSearchError(
          400,
          'illegal_argument_exception',
          `Policy contains a transition to a state that does not exist`,
        );
      }
      const age = isObject(transition.conditions) ? transition.conditions.min_index_age : undefined;
      if (age !== undefined && (typeof age !== 'string' || !/^\d+(d|h|m|s|ms|micros|nanos)$/.test(age))) {
        throw new OpenSearchError(
          400,
          'illegal_argument_exception',
          `failed to parse setting [min_index_age] with value [${String(age)}]`,
        );
      }
    }
  }
}

/** The failure the next bulk calls answer, and whether it fails the whole request or each of its items. */
interface BulkFailure {
  left: number;
  status: 429 | 503;
  scope: 'request' | 'items';
}

const FAILURE_TYPES = {
  429: 'es_rejected_execution_exception',
  503: 'unavailable_shards_exception',
} as const;

/** Starts the stand-in on a free port of 127.0.0.1. */
const MAX_REQUESTS_KEPT = 100;

export async function startContractServer() {
  const indices = new Map<string, Index>();
  const templates = new Map<string, JsonObject>();
  const policies = new Map<string, Policy>();
  /** The latest requests as they arrived: what a client put in the URL and the authorization header. */
  const requests: { method: string; url: string; authorization: string | null }[] = [];
  const calls: CallCounts = {
    putIndexTemplate: 0,
    getIndexTemplate: 0,
    putPolicy: 0,
    getPolicy: 0,
    bulk: 0,
    search: 0,
    deleteByQuery: 0,
    catIndices: 0,
    deleteIndex: 0,
    total: 0,
  };
  let seqNo = 0;
  let bulkFailure: BulkFailure | undefined;

  const createIndex = (name: string): Index => {
    const problem = invalidIndexName(name);
    if (problem)
      throw new OpenSearchError(
        400,
        'invalid_index_name_exception',
        `Invalid index name [${name}], ${problem}`,
        { index: name },
      );
    // The matching template of highest priority gives the new index its settings and mappings.
    let chosen: JsonObject | undefined;
    let best = Number.NEGATIVE_INFINITY;
    for (const template of templates.values()) {
      const patterns = asList(template.index_patterns).map(String);
      const priority = numberOf(template.priority) ?? 0;
      if (patterns.some((p) => globToRegExp(p).test(name)) && priority > best) {
        chosen = template;
        best = priority;
      }
    }
    const body = isObject(chosen?.template) ? chosen.template : {};
    const mappings: FieldMapping = isObject(body.mappings)
      ? structuredClone(body.mappings)
      : { dynamic: true };
    const settings = isObject(body.settings) ? structuredClone(body.settings) : {};
    const index: Index = {
      name,
      uuid: randomBytes(16).toString('base64url'),
      mappings,
      settings,
      docs: new Map(),
      deleted: 0,
    };
    indices.set(name, index);
    return index;
  };

  /** The indices an index expression names: comma-separated names and wildcards; a missing name is an error. */
  const resolve = (expression: string): Index[] => {
    const found = new Map<string, Index>();
    for (const part of expression.split(',')) {
      if (part === '_all' || part === '*') {
        for (const index of indices.values()) found.set(index.name, index);
      } else if (part.includes('*')) {
        const re = globToRegExp(part);
        for (const index of indices.values()) if (re.test(index.name)) found.set(index.name, index);
      } else {
        const index = indices.get(part);
        if (!index) {
          throw new OpenSearchError(404, 'index_not_found_exception', `no such index [${part}]`, {
            'resource.type': 'index_or_alias',
            'resource.id': part,
            index: part,
          });
        }
        found.set(part, index);
      }
    }
    return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  };

  const bulk = (text: string, defaultIndex: string | undefined, rejectStatus: 429 | 503 | undefined) => {
    if (!text.endsWith('\n')) {
      throw new OpenSearchError(
        400,
        'illegal_argument_exception',
        'The bulk request must be terminated by a newline [\\n]',
      );
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const items: JsonObject[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 1) {
      let action: unknown;
      try {
        action = JSON.parse(lines[i] ?? '');
      } catch {
        throw new OpenSearchError(400, 'json_parse_exception', `Malformed action/metadata line [${i + 1}]`);
      }
      const [op, meta] = isObject(action) ? (Object.entries(action)[0] ?? []) : [];
      if (op === undefined || !['index', 'create', 'delete'].includes(op) || !isObject(meta)) {
        throw new OpenSearchError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index]`,
        );
      }
      const indexName = typeof meta._index === 'string' ? meta._index : defaultIndex;
      if (indexName === undefined) {
        throw new OpenSearchError(
          400,
          'action_request_validation_exception',
          'Validation Failed: 1: index is missing;',
        );
      }
      let source: unknown;
      if (op !== 'delete') {
        i += 1;
        try {
          source = JSON.parse(lines[i] ?? '');
        } catch {
          throw new OpenSearchError(400, 'mapper_parsing_exception', 'failed to parse');
        }
      }
      const id = meta._id === undefined ? randomBytes(15).toString('base64url') : String(meta._id);
      let item: JsonObject;
      try {
        if (rejectStatus !== undefined) {
          throw new OpenSearchError(
            rejectStatus,
            FAILURE_TYPES[rejectStatus],
            'rejected by the contract test',
          );
        }
        const index = indices.get(indexName) ?? (op === 'delete' ? undefined : createIndex(indexName));
        const existing = index?.docs.get(id);
        if (op === 'delete') {
          if (index && existing) {
            index.docs.delete(id);
            index.deleted += 1;
          }
          seqNo += 1;
          item = {
            _index: indexName,
            _id: id,
            _version: (existing?.version ?? 0) + 1,
            result: existing ? 'deleted' : 'not_found',
            _seq_no: seqNo,
            _primary_term: 1,
            status: existing ? 200 : 404,
          };
        } else {
          if (!index)
            throw new OpenSearchError(404, 'index_not_found_exception', `no such index [${indexName}]`);
          if (!isObject(source))
            throw new OpenSearchError(400, 'mapper_parsing_exception', 'failed to parse, document is empty');
          if (op === 'create' && existing) {
            throw new OpenSearchError(
              409,
              'version_conflict_engine_exception',
              `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
              { index_uuid: index.uuid, shard: '0', index: index.name },
            );
          }
          parseDocument(index, source, id);
          seqNo += 1;
          const version = (existing?.version ?? 0) + 1;
          index.docs.set(id, { source, version, seqNo });
          item = {
            _index: indexName,
            _id: id,
            _version: version,
            result: existing ? 'updated' : 'created',
            _shards: { total: 2, successful: 1, failed: 0 },
            _seq_no: seqNo,
            _primary_term: 1,
            status: existing ? 200 : 201,
          };
        }
      } catch (error) {
        if (!(error instanceof OpenSearchError)) throw error;
        errors = true;
        item = {
          _index: indexName,
          _id: id,
          status: error.status,
          error: { ...error.body, index: indexName },
        };
      }
      items.push({ [op]: item });
    }
    return { took: 1, errors, items };
  };

  const search = (target: string, body: JsonObject, params: URLSearchParams) => {
    const targets = resolve(target);
    const keys = parseSort(body.sort);
    const size = numberOf(body.size ?? params.get('size') ?? 10) ?? 10;
    const from = numberOf(body.from ?? params.get('from') ?? 0) ?? 0;
    if (from + size > MAX_RESULT_WINDOW) {
      throw new OpenSearchError(
        400,
        'illegal_argument_exception',
        `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}].`,
      );
    }
    for (const key of keys) {
      if (key.field === '_doc' || key.field === '_score') continue;
      for (const index of targets) {
        const found = fieldAt(index, key.field);
        if (found === undefined) {
          throw new OpenSearchError(
            400,
            'query_shard_exception',
            `No mapping found for [${key.field}] in order to sort on`,
            { index: index.name },
          );
        }
        if (found.mapping.type === 'text') {
          throw new OpenSearchError(
            400,
            'illegal_argument_exception',
            `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${key.field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`,
          );
        }
      }
    }
    const after = body.search_after;
    if (after !== undefined) {
      if (!Array.isArray(after))
        throw new OpenSearchError(400, 'parsing_exception', '[search_after] must be an array');
      if (keys.length === 0)
        throw new OpenSearchError(400, 'illegal_argument_exception', 'Sort must contain at least one field.');
      if (after.length !== keys.length) {
        throw new OpenSearchError(
          400,
          'illegal_argument_exception',
          `search_after has ${after.length} value(s) but sort has ${keys.length}.`,
        );
      }
    }
    const hits: { index: Index; id: string; source: JsonObject; sort: Comparable[] }[] = [];
    for (const index of targets) {
      for (const [id, doc] of index.docs) {
        if (!matchesQuery(index, { id, source: doc.source }, body.query)) continue;
        hits.push({
          index,
          id,
          source: doc.source,
          sort: keys.map((k) => sortValue(index, k.field, doc.source, k.order)),
        });
      }
    }
    hits.sort((a, b) => compareTuples(a.sort, b.sort, keys));
    let matched = hits;
    if (Array.isArray(after)) {
      const afterValues = after.map((v, i): Comparable => {
        const key = keys[i];
        const type = key && targets[0] ? fieldAt(targets[0], key.field)?.mapping.type : undefined;
        const parsed =
          type === 'date' ? dateMillis(v) : type && NUMERIC_TYPES.has(type) ? numberOf(v) : undefined;
        if (parsed !== undefined) return parsed;
        if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
          if (type === 'date' || (type && NUMERIC_TYPES.has(type))) {
            throw new OpenSearchError(
              400,
              'parse_exception',
              `failed to parse search_after value [${String(v)}] for [${key?.field}]`,
            );
          }
          return v;
        }
        throw new OpenSearchError(400, 'parsing_exception', '[search_after] values must be scalars');
      });
      matched = hits.filter((h) => compareTuples(h.sort, afterValues, keys) > 0);
    }
    const track = body.track_total_hits ?? DEFAULT_TRACKED_HITS;
    const cap = track === true ? Number.POSITIVE_INFINITY : numberOf(track);
    const total =
      track === false || cap === undefined
        ? undefined
        : hits.length > cap
          ? { value: cap, relation: 'gte' }
          : { value: hits.length, relation: 'eq' };
    return {
      took: 1,
      timed_out: false,
      _shards: { total: targets.length, successful: targets.length, skipped: 0, failed: 0 },
      hits: {
        ...(total ? { total } : {}),
        max_score: keys.length > 0 ? null : 1,
        hits: matched.slice(from, from + size).map((h) => ({
          _index: h.index.name,
          _id: h.id,
          _score: keys.length > 0 ? null : 1,
          _source: h.source,
          ...(keys.length > 0 ? { sort: h.sort } : {}),
        })),
      },
    };
  };

  const deleteByQuery = (target: string, body: JsonObject, params: URLSearchParams) => {
    const conflicts = params.get('conflicts') ?? 'abort';
    if (conflicts !== 'abort' && conflicts !== 'proceed') {
      throw new OpenSearchError(
        400,
        'illegal_argument_exception',
        `conflicts may only be "proceed" or "abort" but was [${conflicts}]`,
      );
    }
    if (body.query === undefined) {
      throw new OpenSearchError(
        400,
        'action_request_validation_exception',
        'Validation Failed: 1: query is missing;',
      );
    }
    let deleted = 0;
    for (const index of resolve(target)) {
      for (const [id, doc] of [...index.docs]) {
        if (!matchesQuery(index, { id, source: doc.source }, body.query)) continue;
        index.docs.delete(id);
        index.deleted += 1;
        deleted += 1;
      }
    }
    return {
      took: 1,
      timed_out: false,
      total: deleted,
      deleted,
      batches: Math.ceil(deleted / 1000),
      version_conflicts: 0,
      noops: 0,
      retries: { bulk: 0, search: 0 },
      throttled_millis: 0,
      requests_per_second: -1,
      throttled_until_millis: 0,
      failures: [],
    };
  };

  const catIndices = (target: string | undefined) =>
    (target === undefined
      ? [...indices.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
      : resolve(target)
    ).map((index) => ({
      health: 'green',
      status: 'open',
      index: index.name,
      uuid: index.uuid,
      pri: '1',
      rep: '0',
      'docs.count': String(index.docs.size),
      'docs.deleted': String(index.deleted),
      'store.size': `${index.docs.size}kb`,
      'pri.store.size': `${index.docs.size}kb`,
    }));

  type Answer = { status: number; body: unknown; text?: string };

  const route = (method: string, url: URL, raw: string, contentType: string): Answer => {
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const params = url.searchParams;
    const json = (): JsonObject => {
      if (raw.trim() === '') return {};
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (error) {
        throw new OpenSearchError(
          400,
          'json_parse_exception',
          `Unexpected character: ${(error as Error).message}`,
        );
      }
      if (!isObject(parsed))
        throw new OpenSearchError(400, 'parse_exception', 'request body is required to be an object');
      return parsed;
    };
    if (raw !== '' && !/^application\/(json|x-ndjson)\b/.test(contentType)) {
      return {
        status: 406,
        body: { error: `Content-Type header [${contentType}] is not supported`, status: 406 },
      };
    }
    const [first, second, third, fourth] = segments;

    if (first === '_index_template' && second !== undefined && segments.length === 2) {
      if (method === 'PUT' || method === 'POST') {
        calls.putIndexTemplate += 1;
        const body = json();
        if (asList(body.index_patterns).length === 0) {
          throw new OpenSearchError(
            400,
            'action_request_validation_exception',
            'Validation Failed: 1: index patterns are missing;',
          );
        }
        const template = isObject(body.template) ? body.template : {};
        if (isObject(template.mappings)) validateMappings(template.mappings, '');
        templates.set(second, structuredClone(body));
        return { status: 200, body: { acknowledged: true } };
      }
      if (method === 'GET') {
        calls.getIndexTemplate += 1;
        const template = templates.get(second);
        if (!template)
          throw new OpenSearchError(
            404,
            'resource_not_found_exception',
            `index template matching [${second}] not found`,
          );
        return { status: 200, body: { index_templates: [{ name: second, index_template: template }] } };
      }
    }

    if (
      first === '_plugins' &&
      second === '_ism' &&
      third === 'policies' &&
      fourth !== undefined &&
      segments.length === 4
    ) {
      if (method === 'PUT') {
        calls.putPolicy += 1;
        const body = json();
        validatePolicy(body);
        const existing = policies.get(fourth);
        const ifSeqNo = params.get('if_seq_no');
        const ifPrimaryTerm = params.get('if_primary_term');
        if (existing && (ifSeqNo === null || ifPrimaryTerm === null)) {
          throw new OpenSearchError(
            409,
            'version_conflict_engine_exception',
            `[${fourth}]: version conflict, document already exists (current version [${existing.version}])`,
          );
        }
        if (!existing && ifSeqNo !== null) {
          throw new OpenSearchError(404, 'document_missing_exception', `[${fourth}]: document missing`);
        }
        if (existing && (Number(ifSeqNo) !== existing.seqNo || Number(ifPrimaryTerm) !== 1)) {
          throw new OpenSearchError(
            409,
            'version_conflict_engine_exception',
            `[${fourth}]: version conflict, required seqNo [${ifSeqNo}], primary term [${ifPrimaryTerm}]. current document has seqNo [${existing.seqNo}] and primary term [1]`,
          );
        }
        seqNo += 1;
        const policy: Policy = {
          body: structuredClone(body),
          version: (existing?.version ?? 0) + 1,
          seqNo,
          updatedAt: Date.now(),
        };
        policies.set(fourth, policy);
        return {
          status: existing ? 200 : 201,
          body: {
            _id: fourth,
            _version: policy.version,
            _primary_term: 1,
            _seq_no: policy.seqNo,
            policy: { policy: policyResponse(fourth, policy) },
          },
        };
      }
      if (method === 'GET') {
        calls.getPolicy += 1;
        const policy = policies.get(fourth);
        if (!policy) throw new OpenSearchError(404, 'status_exception', 'Policy not found');
        return {
          status: 200,
          body: {
            _id: fourth,
            _version: policy.version,
            _seq_no: policy.seqNo,
            _primary_term: 1,
            policy: policyResponse(fourth, policy),
          },
        };
      }
    }

    const bulkIndex = first === '_bulk' ? undefined : second === '_bulk' ? first : null;
    if (
      bulkIndex !== null &&
      segments.length === (bulkIndex === undefined ? 1 : 2) &&
      (method === 'POST' || method === 'PUT')
    ) {
      calls.bulk += 1;
      const failure = bulkFailure;
      if (failure) {
        failure.left -= 1;
        if (failure.left <= 0) bulkFailure = undefined;
        if (failure.scope === 'request') {
          throw new OpenSearchError(
            failure.status,
            FAILURE_TYPES[failure.status],
            'rejected by the contract test',
          );
        }
      }
      return { status: 200, body: bulk(raw, bulkIndex, failure?.status) };
    }

    const searchTarget = first === '_search' ? '_all' : second === '_search' ? first : undefined;
    if (
      searchTarget !== undefined &&
      segments.length === (first === '_search' ? 1 : 2) &&
      (method === 'GET' || method === 'POST')
    ) {
      calls.search += 1;
      return { status: 200, body: search(searchTarget, json(), params) };
    }

    if (second === '_delete_by_query' && first !== undefined && segments.length === 2 && method === 'POST') {
      calls.deleteByQuery += 1;
      return { status: 200, body: deleteByQuery(first, json(), params) };
    }

    if (first === '_cat' && second === 'indices' && segments.length <= 3 && method === 'GET') {
      calls.catIndices += 1;
      const rows = catIndices(third);
      if (params.get('format') === 'json') return { status: 200, body: rows };
      const text = rows.map((r) => Object.values(r).join(' ')).join('\n');
      return { status: 200, body: undefined, text: text === '' ? '' : `${text}\n` };
    }

    if (method === 'DELETE' && first !== undefined && !first.startsWith('_') && segments.length === 1) {
      calls.deleteIndex += 1;
      for (const index of resolve(first)) indices.delete(index.name);
      return { status: 200, body: { acknowledged: true } };
    }

    return {
      status: 400,
      body: {
        error: `no handler found for uri [${url.pathname}${url.search}] and method [${method}]`,
        status: 400,
      },
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.total += 1;
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization ?? null,
      });
      if (requests.length > MAX_REQUESTS_KEPT) requests.shift();
      let answer: Answer;
      try {
        const url = new URL(req.url ?? '/', 'http://opensearch.invalid');
        answer = route(
          req.method ?? 'GET',
          url,
          Buffer.concat(chunks).toString('utf8'),
          req.headers['content-type'] ?? '',
        );
      } catch (error) {
        if (!(error instanceof OpenSearchError)) {
          answer = {
            status: 500,
            body: { error: { root_cause: [], type: 'exception', reason: String(error) }, status: 500 },
          };
        } else {
          answer = {
            status: error.status,
            body: { error: { root_cause: [error.body], ...error.body }, status: error.status },
          };
        }
      }
      if (answer.text !== undefined) {
        res.writeHead(answer.status, { 'content-type': 'text/plain; charset=UTF-8' }).end(answer.text);
      } else {
        res
          .writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8' })
          .end(JSON.stringify(answer.body));
      }
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive connections would otherwise go on being answered.
      server.closeAllConnections();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** The latest requests (at most 100), oldest first. */
    requests,
    /** Closes the port and every open connection; what the server holds stays for `start`. */
    stop,
    /** Listens again on the same port. */
    start: () => listen(port),
    close: stop,
    /**
     * Fails the next `count` bulk calls with `status`: the whole request (`scope: 'request'`, an error answer), or
     * every item of an answer that is otherwise 200 (`scope: 'items'`, as a node's full write queue does).
     */
    failNextBulk(count: number, status: 429 | 503, scope: 'request' | 'items' = 'request') {
      bulkFailure = count > 0 ? { left: count, status, scope } : undefined;
    },
    /** The stored sources of the indices an expression names (`vigil-logs-*`), with their index and id. */
    documents(expression = '*') {
      return resolve(expression).flatMap((index) =>
        [...index.docs].map(([id, doc]) => ({
          index: index.name,
          id,
          source: doc.source,
          version: doc.version,
        })),
      );
    },
    /** The mappings an index was created with (and any dynamic fields added since). */
    mappings: (name: string) => indices.get(name)?.mappings,
  };
}

export type OpenSearchContractServer = Awaited<ReturnType<typeof startContractServer>>;
