// A set of inode numbers in a typed array: open addressing with linear probing, 4 bytes a slot
// while every number fits in 32 bits (tmpfs without inode64: the filesystems where numbers
// repeat), 8 bytes once one does not. A million numbers take 8 MiB (Uint32) or 16 MiB; a
// JavaScript Set would take ~40. Zero is never an inode number here (it marks an empty slot).

const MAX_LOAD = 0.75;
const TWO32 = 0x1_0000_0000;

export class InodeSet {
  private keys: Uint32Array | Float64Array;
  private mask: number;
  /** 32 - log2(slots): a slot is the top bits of the hash */
  private shift: number;
  /**
   * Each set hashes with its own seed: numbers added in the slot order of another set (a thread's
   * numbers merged into this one) would otherwise arrive sorted by slot and pile up in one run of
   * linear probing (quadratic: 45 s to merge 600k numbers, before the seed)
   */
  private readonly seed = (Math.random() * 0x1_0000_0000) >>> 0;
  /** and its own odd multiplier: the golden ratio's, some middle bits changed (never a weak one such as 1) */
  private readonly mult = (0x9e3779b1 ^ (Math.floor(Math.random() * 0x10000) << 8)) | 1;
  size = 0;

  constructor(capacity = 1 << 12) {
    let n = 16;
    while (n * MAX_LOAD < capacity) n *= 2;
    this.keys = new Uint32Array(n);
    this.mask = n - 1;
    this.shift = 32 - Math.log2(n);
  }

  /** Add `ino`; true when it was there already. */
  add(ino: number): boolean {
    if (ino <= 0) return false;
    if (ino >= TWO32 && this.keys instanceof Uint32Array) this.rebuild(this.keys.length, true);
    const keys = this.keys;
    let i = slot(ino, this.seed, this.mult) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === 0) break;
      if (k === ino) return true;
      i = (i + 1) & this.mask;
    }
    keys[i] = ino;
    if (++this.size > keys.length * MAX_LOAD) this.rebuild(keys.length * 2, keys instanceof Float64Array);
    return false;
  }

  has(ino: number): boolean {
    if (ino <= 0) return false;
    const keys = this.keys;
    let i = slot(ino, this.seed, this.mult) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === 0) return false;
      if (k === ino) return true;
      i = (i + 1) & this.mask;
    }
  }

  /** The numbers held, in slot order (to hand to another thread). */
  values(): Float64Array {
    const out = new Float64Array(this.size);
    let j = 0;
    for (const k of this.keys) if (k !== 0) out[j++] = k;
    return out;
  }

  private rebuild(n: number, wide: boolean): void {
    const old = this.keys;
    this.keys = wide ? new Float64Array(n) : new Uint32Array(n);
    this.mask = n - 1;
    this.shift = 32 - Math.log2(n);
    this.size = 0;
    for (const k of old) if (k !== 0) this.add(k);
  }
}

/** A 32-bit hash of the number's two halves, a seed and an odd multiplier (its top bits pick the slot). */
function slot(ino: number, seed: number, mult: number): number {
  const lo = ino >>> 0;
  const hi = (ino - lo) / TWO32;
  return Math.imul(lo ^ seed ^ Math.imul(hi, 0x85ebca6b), mult) >>> 0;
}
