import { avalanche } from '../../storage/event-key.ts';

/**
 * A Bloom filter of event ids, by their integer keys (storage/event-key.ts): `mightContain` is false only for
 * a key never added, so an id it rules out needs no lookup in `affiliate_events`. The write thread checks
 * every event's id for idempotency; with random ids each lookup is a B-tree descent (~2 µs, more as the table
 * grows), and nearly every id is new.
 * A false positive (about 1 in 1,000 at the planned size) only costs that lookup. Ids deleted from the
 * table (retention, erasure) stay in the filter until the next start, which costs the same and no more.
 */

/** Bits per planned id: with 6 probes, about 0.1% false positives at the planned count (2% at twice it). */
const BITS_PER_ID = 16;
const PROBES = 6;
const MIN_BITS = 2 ** 23;
/** 128 MiB: past ~67 million planned ids the false positives grow (and cost lookups, never mistakes). */
const MAX_BITS = 2 ** 30;

export class IdFilter {
  readonly #words: Int32Array;
  readonly #mask: number;

  /** A filter sized for `plannedIds` ids (a power of two of bits, between 1 and 128 MiB). */
  constructor(plannedIds: number) {
    let bits = MIN_BITS;
    while (bits < plannedIds * BITS_PER_ID && bits < MAX_BITS) bits *= 2;
    this.#words = new Int32Array(bits / 32);
    this.#mask = bits - 1;
  }

  /** Bytes the filter holds. */
  get bytes(): number {
    return this.#words.byteLength;
  }

  add(key: number): void {
    probes(key);
    for (let i = 0, bit = first; i < PROBES; i += 1, bit = (bit + step) | 0) {
      const at = bit & this.#mask;
      this.#words[at >>> 5] = (this.#words[at >>> 5] as number) | (1 << (at & 31));
    }
  }

  mightContain(key: number): boolean {
    probes(key);
    for (let i = 0, bit = first; i < PROBES; i += 1, bit = (bit + step) | 0) {
      const at = bit & this.#mask;
      if (((this.#words[at >>> 5] as number) & (1 << (at & 31))) === 0) return false;
    }
    return true;
  }
}

/** The last key's probes, set by `probes`: bit i is `first + i·step`. */
let first = 0;
let step = 0;

/**
 * Probes for double hashing from a key: a key is already a hash (two 32-bit string hashes, 32 and 21 of their
 * bits), so its high 32 bits are the first probe and its low 21, mixed, the step.
 */
function probes(key: number): void {
  const high = Math.floor(key / 2 ** 21);
  first = high | 0;
  // An odd step visits distinct bits.
  step = avalanche((key - high * 2 ** 21) ^ high) | 1;
}
