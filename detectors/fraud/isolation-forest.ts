// Isolation forest (Liu, Ting & Zhou 2008, "Isolation Forest", ICDM): each tree isolates points by random
// axis-parallel splits of a subsample drawn without replacement; anomalies sit on short paths. Trees are kept
// as flat typed arrays holding split features and thresholds only — never a training row — so a model can be
// stored, versioned and erased-proof (it holds no personal data).

/** Rows × columns of numbers, row-major. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function toMatrix(rows: readonly (readonly number[])[], cols = rows[0]?.length ?? 0): Matrix {
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new FeatureError(`row ${i} has ${row.length} features, expected ${cols}`);
    data.set(row, i * cols);
  });
  return { rows: rows.length, cols, data };
}

/** A missing, infinite or NaN feature: the model refuses it rather than scoring garbage. */
export class FeatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeatureError';
  }
}

function checkFinite(data: ArrayLike<number>, cols: number, names?: readonly string[], offset = 0): void {
  for (let i = 0; i < data.length; i += 1) {
    const value = data[i] as number;
    if (!Number.isFinite(value)) {
      const col = i % cols;
      const what = names?.[col] ? `${names[col]} (feature ${col})` : `feature ${col}`;
      throw new FeatureError(
        `${what} of row ${offset + Math.floor(i / cols)} is ${value}: every feature must be a finite number`,
      );
    }
  }
}

const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search in a binary search tree of n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** A small, fast, seedable PRNG (mulberry32) in [0, 1): the same seed gives the same forest. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ForestOptions {
  /** Number of trees (t); 100 as in the paper and scikit-learn. */
  trees?: number;
  /** Subsample size per tree (ψ), drawn without replacement; 256 as in the paper. */
  sampleSize?: number;
  seed?: number;
  /** Feature names, for error messages and explanations. */
  featureNames?: readonly string[];
}

/** The stored form of a forest: parameters only. Typed arrays as base64. */
export interface SerializedForest {
  kind: 'isolation-forest';
  version: 1;
  trees: number;
  sampleSize: number;
  seed: number;
  features: string[];
  /** Per tree, the index of its root node. */
  roots: string;
  /** Per node: split feature (-1 for a leaf), threshold, left and right child, and leaf size. */
  feature: string;
  threshold: string;
  left: string;
  right: string;
  size: string;
}

/** Per feature, its share in isolating a point (sums to 1). */
export type Contributions = Record<string, number>;

export class IsolationForest {
  /** Per node, c(leaf size): what a leaf adds to the path length (derived, not stored). */
  private readonly adjust: Float64Array;

  private constructor(
    readonly trees: number,
    readonly sampleSize: number,
    readonly seed: number,
    readonly features: readonly string[],
    private readonly roots: Int32Array,
    private readonly feature: Int32Array,
    private readonly threshold: Float64Array,
    private readonly left: Int32Array,
    private readonly right: Int32Array,
    private readonly size: Int32Array,
  ) {
    this.adjust = new Float64Array(size.length);
    for (let i = 0; i < size.length; i += 1) {
      if ((feature[i] as number) < 0) this.adjust[i] = averagePathLength(size[i] as number);
    }
  }

  /** The expected path length of a point that is not an outlier: c(ψ). */
  get normaliser(): number {
    return averagePathLength(this.sampleSize);
  }

  /** Fits a fresh forest; every feature of every row must be finite. */
  static fit(x: Matrix, options: ForestOptions = {}): IsolationForest {
    if (x.rows < 2) throw new FeatureError('an isolation forest needs at least two rows');
    const names = options.featureNames ?? Array.from({ length: x.cols }, (_, i) => `f${i}`);
    if (names.length !== x.cols)
      throw new FeatureError(`${names.length} feature names for ${x.cols} features`);
    checkFinite(x.data, x.cols, names);
    const trees = options.trees ?? 100;
    const sampleSize = Math.min(options.sampleSize ?? 256, x.rows);
    const seed = options.seed ?? 0;
    const heightLimit = Math.ceil(Math.log2(Math.max(sampleSize, 2)));
    const next = seededRandom(seed);
    // A tree on ψ points has at most 2ψ − 1 nodes.
    const capacity = trees * (2 * sampleSize - 1);
    const feature = new Int32Array(capacity);
    const threshold = new Float64Array(capacity);
    const left = new Int32Array(capacity);
    const right = new Int32Array(capacity);
    const size = new Int32Array(capacity);
    const roots = new Int32Array(trees);
    let nodes = 0;
    const pool = new Int32Array(x.rows);
    const order = new Int32Array(x.cols);
    const { data, cols } = x;

    /** Builds the subtree over sample[from, to); returns its node index. */
    const build = (sample: Int32Array, from: number, to: number, depth: number): number => {
      const node = nodes;
      nodes += 1;
      const n = to - from;
      feature[node] = -1;
      size[node] = n;
      if (depth >= heightLimit || n <= 1) return node;
      // A random feature that is not constant here (features drawn in random order); none → a leaf.
      for (let i = 0; i < cols; i += 1) order[i] = i;
      for (let tried = 0; tried < cols; tried += 1) {
        const pick = tried + Math.floor(next() * (cols - tried));
        const f = order[pick] as number;
        order[pick] = order[tried] as number;
        order[tried] = f;
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (let i = from; i < to; i += 1) {
          const v = data[(sample[i] as number) * cols + f] as number;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (!(max > min)) continue;
        let split = min + next() * (max - min);
        if (split <= min) split = min + (max - min) / 2; // never a split that sends everything one way
        // Partition in place: values below the split to the left.
        let mid = from;
        for (let i = from; i < to; i += 1) {
          const row = sample[i] as number;
          if ((data[row * cols + f] as number) < split) {
            sample[i] = sample[mid] as number;
            sample[mid] = row;
            mid += 1;
          }
        }
        feature[node] = f;
        threshold[node] = split;
        left[node] = build(sample, from, mid, depth + 1);
        right[node] = build(sample, mid, to, depth + 1);
        return node;
      }
      return node;
    };

    for (let t = 0; t < trees; t += 1) {
      // ψ rows without replacement: a partial Fisher–Yates shuffle of all row indexes.
      for (let i = 0; i < x.rows; i += 1) pool[i] = i;
      for (let i = 0; i < sampleSize; i += 1) {
        const j = i + Math.floor(next() * (x.rows - i));
        const tmp = pool[i] as number;
        pool[i] = pool[j] as number;
        pool[j] = tmp;
      }
      roots[t] = build(pool.slice(0, sampleSize), 0, sampleSize, 0);
    }
    return new IsolationForest(
      trees,
      sampleSize,
      seed,
      names,
      roots,
      feature.slice(0, nodes),
      threshold.slice(0, nodes),
      left.slice(0, nodes),
      right.slice(0, nodes),
      size.slice(0, nodes),
    );
  }

  /** h(x) in one tree: edges to the leaf, plus c(leaf size) for the points the height limit left unsplit. */
  private pathLength(root: number, row: ArrayLike<number>, offset: number): number {
    let node = root;
    let depth = 0;
    for (;;) {
      const f = this.feature[node] as number;
      if (f < 0) return depth + (this.adjust[node] as number);
      node = (
        (row[offset + f] as number) < (this.threshold[node] as number) ? this.left[node] : this.right[node]
      ) as number;
      depth += 1;
    }
  }

  private checkRow(row: ArrayLike<number>, offset = 0, index = 0): void {
    const cols = this.features.length;
    if (row.length - offset < cols)
      throw new FeatureError(`row ${index} has ${row.length - offset} features, expected ${cols}`);
    checkFinite(Array.prototype.slice.call(row, offset, offset + cols), cols, this.features, index);
  }

  /** The anomaly score s(x) = 2^(−E(h(x)) / c(ψ)) in (0, 1]: near 1 anomalous, well under 0.5 normal. */
  score(row: readonly number[] | Float64Array): number {
    this.checkRow(row);
    return this.scoreAt(row, 0);
  }

  private scoreAt(row: ArrayLike<number>, offset: number): number {
    let total = 0;
    for (let t = 0; t < this.trees; t += 1) total += this.pathLength(this.roots[t] as number, row, offset);
    return 2 ** (-(total / this.trees) / this.normaliser);
  }

  /** Scores every row of a matrix. */
  scoreAll(x: Matrix): Float64Array {
    if (x.cols !== this.features.length)
      throw new FeatureError(`${x.cols} features, the model expects ${this.features.length}`);
    checkFinite(x.data, x.cols, this.features);
    // Tree by tree: one tree's nodes stay in cache while every row walks it.
    const totals = new Float64Array(x.rows);
    const { feature, threshold, left, right, adjust } = this;
    const { data, cols } = x;
    for (let t = 0; t < this.trees; t += 1) {
      const root = this.roots[t] as number;
      for (let i = 0; i < x.rows; i += 1) {
        const offset = i * cols;
        let node = root;
        let depth = 0;
        let f = feature[node] as number;
        while (f >= 0) {
          node = (
            (data[offset + f] as number) < (threshold[node] as number) ? left[node] : right[node]
          ) as number;
          depth += 1;
          f = feature[node] as number;
        }
        totals[i] = (totals[i] as number) + depth + (adjust[node] as number);
      }
    }
    const scores = new Float64Array(x.rows);
    const c = this.normaliser;
    for (let i = 0; i < x.rows; i += 1) scores[i] = 2 ** (-((totals[i] as number) / this.trees) / c);
    return scores;
  }

  /**
   * Which features isolate a point: along its path in every tree, each split credits its feature with how much
   * of the node's sample it cut away from the point — log2(node size / size of the side the point takes) —
   * so a cut that leaves the point nearly alone counts most. Shares sum to 1.
   */
  explain(row: readonly number[] | Float64Array): Contributions {
    this.checkRow(row);
    const credit = new Float64Array(this.features.length);
    for (let t = 0; t < this.trees; t += 1) {
      let node = this.roots[t] as number;
      for (;;) {
        const f = this.feature[node] as number;
        if (f < 0) break;
        const next = (
          (row[f] as number) < (this.threshold[node] as number) ? this.left[node] : this.right[node]
        ) as number;
        credit[f] =
          (credit[f] as number) +
          Math.log2((this.size[node] as number) / Math.max(1, this.size[next] as number));
        node = next;
      }
    }
    const sum = credit.reduce((a, b) => a + b, 0) || 1;
    return Object.fromEntries(this.features.map((name, i) => [name, (credit[i] as number) / sum]));
  }

  toJSON(): SerializedForest {
    const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    return {
      kind: 'isolation-forest',
      version: 1,
      trees: this.trees,
      sampleSize: this.sampleSize,
      seed: this.seed,
      features: [...this.features],
      roots: b64(this.roots),
      feature: b64(this.feature),
      threshold: b64(this.threshold),
      left: b64(this.left),
      right: b64(this.right),
      size: b64(this.size),
    };
  }

  static fromJSON(json: SerializedForest): IsolationForest {
    if (json.kind !== 'isolation-forest' || json.version !== 1)
      throw new Error('not a serialised isolation forest (v1)');
    const bytes = (text: string) => {
      const buffer = Buffer.from(text, 'base64');
      // A fresh, aligned copy: typed arrays need their element alignment.
      return new Uint8Array(buffer).slice().buffer;
    };
    const forest = new IsolationForest(
      json.trees,
      json.sampleSize,
      json.seed,
      json.features,
      new Int32Array(bytes(json.roots)),
      new Int32Array(bytes(json.feature)),
      new Float64Array(bytes(json.threshold)),
      new Int32Array(bytes(json.left)),
      new Int32Array(bytes(json.right)),
      new Int32Array(bytes(json.size)),
    );
    const nodes = forest.feature.length;
    const valid =
      forest.roots.length === json.trees &&
      [forest.threshold, forest.left, forest.right, forest.size].every((a) => a.length === nodes) &&
      forest.feature.every(
        (f, i) =>
          f < json.features.length &&
          (f < 0 || ((forest.left[i] as number) < nodes && (forest.right[i] as number) < nodes)),
      );
    if (!valid) throw new Error('the serialised forest is inconsistent');
    return forest;
  }
}
