/**
 * Token buckets per key: `burst` tokens at most, refilled at `ratePerSecond`. `take` answers 0 when a token was
 * taken, else the seconds until one is available (for `Retry-After`).
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  take(key: string): number {
    const now = this.nowMs();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.ratePerSecond;
  }
}
