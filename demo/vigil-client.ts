// The demo's HTTP client for Vigil's API: JSON in and out, a bearer key per request, and an error that says
// which request failed and what Vigil answered. It takes any fetch-like function, so tests can pass the
// in-process app's `request` instead of the network.

/** A `fetch`-compatible function: the global `fetch`, or an in-process app's `request`. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A request Vigil refused or could not answer. */
export class VigilRequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | null,
    detail: string,
  ) {
    super(`${method} ${path} failed${status === null ? '' : ` with ${status}`}: ${detail}`);
    this.name = 'VigilRequestError';
  }
}

/** Sends JSON requests to one Vigil. */
export interface VigilClient {
  baseUrl: string;
  send<T>(method: 'GET' | 'POST', path: string, key: string, body?: unknown): Promise<T>;
}

const TIMEOUT_MS = 60_000;
/** Tries of a request Vigil answers with 503 (its ingestion momentarily full), with a pause between them. */
const ATTEMPTS = 5;

/** What a problem answer (RFC 9457) says, or the start of whatever else came back. */
function describe(text: string): string {
  try {
    const problem = JSON.parse(text) as {
      title?: string;
      detail?: string;
      errors?: { path: string; message: string }[];
    };
    const errors = (problem.errors ?? []).slice(0, 3).map((e) => `${e.path}: ${e.message}`);
    return [problem.detail ?? problem.title ?? text.slice(0, 300), ...errors].join('; ');
  } catch {
    return text.slice(0, 300) || '(empty answer)';
  }
}

export function createVigilClient(baseUrl: string, fetchLike: FetchLike = fetch): VigilClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    async send<T>(method: 'GET' | 'POST', path: string, key: string, body?: unknown): Promise<T> {
      for (let attempt = 1; ; attempt += 1) {
        let res: Response;
        try {
          res = await fetchLike(`${base}${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
        } catch (error) {
          const cause =
            error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
          throw new VigilRequestError(method, path, null, cause?.message ?? String(error));
        }
        const text = await res.text();
        if (res.status === 503 && attempt < ATTEMPTS) {
          const wait = Number(res.headers.get('retry-after') ?? 1);
          await new Promise((resolve) => setTimeout(resolve, Math.min(10, Math.max(1, wait)) * 1000));
          continue;
        }
        if (!res.ok) throw new VigilRequestError(method, path, res.status, describe(text));
        return JSON.parse(text) as T;
      }
    },
  };
}
