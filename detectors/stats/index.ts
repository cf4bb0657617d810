// Robust statistics and chance tests the detectors share: pure functions, no I/O.

/** The value at quantile q (0–1) of sorted values, interpolated between neighbours; 0 for none. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/**
 * The median and 1.4826 × the median absolute deviation of values: the standard deviation for normal data,
 * barely moved by a minority of extreme values. `sorted` says the values are sorted already.
 */
export function robust(values: number[], sorted = false): { median: number; scale: number } {
  const ordered = sorted ? values : [...values].sort((x, y) => x - y);
  const median = quantile(ordered, 0.5);
  const deviations = ordered.map((v) => Math.abs(v - median)).sort((x, y) => x - y);
  return { median, scale: 1.4826 * quantile(deviations, 0.5) };
}

/** log Γ(x) for x > 0 (Lanczos, g = 7): accurate to about 15 digits. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i += 1) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log P(X = k) for X ~ Binomial(n, p). */
function logBinomial(k: number, n: number, p: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X <= k) for X ~ Binomial(n, p): the chance that the rate p gives k or fewer of n. */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (k >= n) return 1;
  if (k < 0) return 0;
  let term = Math.exp(logBinomial(k, n, p));
  let sum = 0;
  for (let i = k; i >= 0 && term > 0; i -= 1) {
    sum += term;
    if (term < sum * 1e-17) break;
    term *= (i / (n - i + 1)) * ((1 - p) / p);
  }
  return Math.min(1, sum);
}

/** P(X >= k) for X ~ Binomial(n, p): the chance that the rate p gives k or more of n. */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let term = Math.exp(logBinomial(k, n, p));
  let sum = 0;
  for (let i = k; i <= n && term > 0; i += 1) {
    sum += term;
    if (term < sum * 1e-17) break;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.min(1, sum);
}
