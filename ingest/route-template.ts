/**
 * Turns a raw URL path into a bounded route template for metric labels: query and fragment dropped, segments
 * that look like identifiers (numbers, UUIDs, long hex or base64-ish tokens, emails) replaced by `:id`,
 * trailing slash removed, depth and length capped.
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
  const segments = path
    .split('/')
    .filter((s) => s.length > 0)
    .slice(0, 6)
    .map((segment) => (looksLikeIdentifier(segment) ? ':id' : segment.toLowerCase().slice(0, 40)));
  return `/${segments.join('/')}`;
}

function looksLikeIdentifier(segment: string): boolean {
  let s = segment;
  try {
    s = decodeURIComponent(segment);
  } catch {
    return true;
  }
  return (
    /^\d+$/.test(s) ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ||
    /^[0-9a-f]{12,}$/i.test(s) ||
    /@/.test(s) ||
    // mixed letters and digits of some length: order numbers, slugs with ids, tokens
    (s.length >= 8 && /\d/.test(s) && /[a-z]/i.test(s) && !/^[a-z]+-?v?\d{1,2}$/i.test(s)) ||
    s.length > 40
  );
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
