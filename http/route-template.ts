/**
 * Turns a raw URL path into a bounded route template for metric labels: query and fragment dropped, trailing
 * slash removed, depth capped, and every segment that is not known to be harmless replaced by `:id`. Labels are
 * served on the unauthenticated `/metrics`, so a segment stays literal only when it cannot carry an identifier:
 * a plain word (`checkout`, `summer-sale`, `v2`, `step-3`) or a static file named by one (`app.js`,
 * `logo.png`). IPs, emails, dotted names (`jane.doe`), anything percent-encoded, mixed letters and digits, long
 * or non-ASCII segments all become `:id`. A sender's own placeholders (`:tab`, `{id}`) stay, as `:name`.
 */
export function templatePath(rawPath: string): string {
  let path = rawPath;
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return '/';
    }
  }
  const segments: string[] = [];
  let afterPerson = false;
  for (const segment of path.split('/')) {
    if (segment.length === 0) continue;
    if (segments.length === MAX_DEPTH) break;
    const literal = literalSegment(segment);
    // The segment after one naming people (`/users/jane`) is a person's handle, however plain a word it is.
    segments.push(literal === undefined || (afterPerson && !literal.startsWith(':')) ? ':id' : literal);
    // A handle (`/@jane`) is not a word, so it is an `:id` itself.
    afterPerson = literal !== undefined && PERSON_COLLECTIONS.has(literal);
  }
  return `/${segments.join('/')}`;
}

const MAX_DEPTH = 6;
/** Letters, `-`/`_` between words, an optional number of one or two digits at the end (`v2`, `step-3`). */
const WORD = /^[a-z]+(?:[-_][a-z]+)*(?:[-_]?\d{1,2})?$/i;
const MAX_WORD = 32;
const STATIC_FILE =
  /^([a-z]+(?:[-_][a-z]+)*)(?:\.min)?\.(?:js|mjs|css|map|html?|json|txt|xml|webmanifest|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|pdf)(?:\.map)?$/i;
const PLACEHOLDER = /^(?::([a-z_][a-z0-9_]{0,31})|\{([a-z_][a-z0-9_]{0,31})\})$/i;
/** Collections whose members are people: the segment after one is an id or a handle. */
const PERSON_COLLECTIONS = new Set([
  'users',
  'user',
  'u',
  'customers',
  'members',
  'profiles',
  'accounts',
  'creators',
  'affiliates',
  'people',
  'authors',
]);

/** The segment as a label may show it (lowercased), or undefined when it must become `:id`. */
function literalSegment(segment: string): string | undefined {
  if (segment.length > 2 * MAX_WORD) return undefined;
  const placeholder = PLACEHOLDER.exec(segment);
  if (placeholder) return `:${placeholder[1] ?? placeholder[2]}`;
  if (segment.length <= MAX_WORD && WORD.test(segment)) return segment.toLowerCase();
  if (STATIC_FILE.test(segment)) return segment.toLowerCase();
  return undefined;
}

/**
 * Caps the distinct values a label may take: the first `cap` values seen are kept, every later new one is
 * reported as `other`. Keeps a metric's cardinality bounded whatever the input.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(readonly cap: number) {}

  /** The value to use as the label: itself while under the cap or already seen, else `other`. */
  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.cap) return 'other';
    this.#seen.add(value);
    return value;
  }
}
