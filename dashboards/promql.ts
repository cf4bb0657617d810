// PromQL helpers for checking the dashboards: turn a Grafana query into plain PromQL (template variables
// replaced by match-all values, `label_values` into the query it stands for) and list the metrics it reads.

// Grafana's built-in variables, as values a plain Prometheus query accepts.
const BUILT_INS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

/** `expr` with every template variable replaced: built-ins by a fixed duration, the others by `.*`. */
export function substituteVariables(expr: string): string {
  return expr.replace(
    /\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)(?::[\w]+)?\]\]/g,
    (_match, braced?: string, bare?: string, bracketed?: string) => {
      const name = braced ?? bare ?? bracketed ?? '';
      if (!name.startsWith('__')) return '.*';
      const value = BUILT_INS[name];
      if (value === undefined) throw new Error(`no plain value for Grafana variable $${name} in: ${expr}`);
      return value;
    },
  );
}

/**
 * The PromQL a Prometheus variable query runs: `label_values(selector, label)` lists the label's values on
 * those series, which is what `count by (label) (selector)` returns.
 */
export function variableQueryToPromql(query: string): string {
  const labelValues = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(query.trim());
  if (labelValues) return `count by (${labelValues[2]}) (${labelValues[1]})`;
  const queryResult = /^query_result\((.+)\)$/.exec(query.trim());
  if (queryResult?.[1] !== undefined) return queryResult[1];
  throw new Error(`unsupported variable query (use label_values(selector, label)): ${query}`);
}

const NOT_METRICS = new Set([
  // aggregations (may be followed by `by`/`without` instead of a parenthesis)
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  // operators and modifiers
  'and',
  'or',
  'unless',
  'atan2',
  'bool',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  // number literals
  'inf',
  'nan',
]);

/**
 * Metric names an expression reads, as written (a histogram's `_bucket` stays). Strings, label matchers,
 * range windows and label lists are dropped first; what remains is an identifier that is neither a function
 * call, a keyword nor part of a number or duration.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()/g)) {
    const name = match[0];
    const end = (match.index ?? 0) + name.length;
    // The lookahead stops backtracking only at the end of the identifier; skip a prefix of a function name.
    if (/^[\w:]/.test(stripped.slice(end))) continue;
    if (NOT_METRICS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}
