/** Compiles `utm_*,ref` into a matcher of query keys (`*` matches any run of characters). */
export function queryKeyMatcher(allowList: string[]): (key: string) => boolean {
  const patterns = allowList.map(
    (entry) =>
      new RegExp(
        `^${entry
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (key) => patterns.some((p) => p.test(key));
}

/**
 * The page URL as stored: fragment and credentials dropped, and every query parameter whose key is not
 * allowed removed (query strings carry emails, tokens and referral ids). Undefined for a value that is not a URL.
 */
export function sanitisePageUrl(raw: string, keepKey: (key: string) => boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  url.hash = '';
  url.username = '';
  url.password = '';
  const kept = [...url.searchParams].filter(([key]) => keepKey(key));
  url.search = '';
  for (const [key, value] of kept) url.searchParams.append(key, value.slice(0, 200));
  return url.toString().slice(0, 2048);
}
