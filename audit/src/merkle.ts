/**
 * RFC 6962 Merkle tree hashing, audit paths and consistency proofs.
 *
 * Every hash the algorithms need is the hash of a *perfect aligned subtree* — 2^level leaves
 * starting at leaf index·2^level — or a right fold of a few of them. Proof generation therefore
 * first plans which perfect subtrees it needs (pure arithmetic on sizes and indexes), then asks a
 * {@link NodeSource} for all of them at once, so a database-backed tree answers any proof with one
 * query of O(log n) rows instead of walking the tree.
 *
 * Sizes and indexes are JavaScript numbers: exact up to 2^53 leaves, far beyond any audit log.
 * No bitwise operators are used on them (those truncate to 32 bits).
 */
import { createHash } from 'node:crypto';

/** A SHA-256 digest: 32 bytes. */
export type Hash = Uint8Array;

export const HASH_SIZE = 32;

/** RFC 6962 §2.1: MTH({}) = SHA-256() — the root of the empty tree. Shared: compare with it, never write into it. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 6962 §2.1: MTH({d0}) = SHA-256(0x00 || d0). The prefix keeps leaves and nodes apart (second-preimage). */
export function leafHash(leaf: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** RFC 6962 §2.1: SHA-256(0x01 || MTH(left) || MTH(right)). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * A perfect aligned subtree: the 2^level leaves starting at leaf `index · 2^level`. Level 0 is a
 * leaf hash. Its hash never changes once the tree has grown past it, which is what makes it
 * storable.
 */
export interface NodeRef {
  readonly level: number;
  readonly index: number;
}

/** Port for proof generation: the tree size and the hashes of perfect aligned subtrees. */
export interface NodeSource {
  /** Number of leaves in the tree now. */
  size(): Promise<number>;
  /**
   * Hashes of the given perfect subtrees, in the order asked. Callers only ask for subtrees that
   * lie entirely inside the tree; an adapter throws when one is missing.
   */
  nodes(refs: readonly NodeRef[]): Promise<Hash[]>;
}

/**
 * A hash that a proof needs: the perfect subtrees covering one range of the tree, largest first.
 * Their RFC 6962 hash is the right fold `node(P1, node(P2, … Pk))`, because the split rule always
 * cuts a ragged range after its largest power of two.
 */
export type RangePlan = readonly NodeRef[];

/** The largest power of two strictly smaller than n (n ≥ 2): the split point k of RFC 6962 §2.1. */
export function splitPoint(n: number): number {
  assertSize(n, 'n');
  if (n < 2) throw new RangeError('the split point needs n >= 2');
  let k = 2 ** Math.floor(Math.log2(n - 1));
  // Math.log2 is rounded: correct it at the edges so 2^j stays exact for every safe integer.
  while (k >= n) k /= 2;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The largest power of two not above n (n ≥ 1). */
function highestPowerOfTwoAtMost(n: number): number {
  let p = 2 ** Math.floor(Math.log2(n));
  while (p > n) p /= 2;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * The perfect subtrees covering leaves [lo, hi), largest first, as the RFC 6962 recursion cuts
 * them. Every range the recursion visits starts at a multiple of its largest part; anything else
 * is a caller bug.
 */
export function rangePlan(lo: number, hi: number): RangePlan {
  assertSize(lo, 'lo');
  assertSize(hi, 'hi');
  if (hi <= lo) throw new RangeError(`empty range [${lo}, ${hi})`);
  const refs: NodeRef[] = [];
  let pos = lo;
  while (pos < hi) {
    const width = highestPowerOfTwoAtMost(hi - pos);
    if (pos % width !== 0) throw new RangeError(`range [${lo}, ${hi}) is not cut by the RFC 6962 split rule`);
    refs.push({ level: Math.log2(width), index: pos / width });
    pos += width;
  }
  return refs;
}

/** The subtrees whose fold is MTH(D[0:size]). */
export function rootPlan(size: number): RangePlan {
  return size === 0 ? [] : rangePlan(0, size);
}

/**
 * Audit path of leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1 PATH(m, D[n])), as
 * ranges to fetch, in proof order (the leaf's sibling first).
 */
export function inclusionPlan(index: number, size: number): RangePlan[] {
  assertSize(index, 'index');
  assertSize(size, 'size');
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  const topDown: RangePlan[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push(rangePlan(lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(rangePlan(lo, lo + k));
      lo += k;
    }
  }
  return topDown.reverse();
}

/**
 * Consistency proof between the trees of `size1` and `size2` leaves (RFC 6962 §2.1.2
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true)), as ranges to fetch, in proof order. Empty when
 * size1 is 0 or equal to size2 (RFC 9162 §2.1.4).
 */
export function consistencyPlan(size1: number, size2: number): RangePlan[] {
  assertSize(size1, 'size1');
  assertSize(size2, 'size2');
  if (size1 > size2) throw new RangeError(`a tree of ${size2} leaves cannot extend one of ${size1}`);
  if (size1 === 0 || size1 === size2) return [];
  const topDown: RangePlan[] = [];
  let lo = 0;
  let hi = size2;
  let m = size1; // relative to lo
  let startedFromRoot = true; // the b flag of SUBPROOF
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      topDown.push(rangePlan(lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(rangePlan(lo, lo + k));
      lo += k;
      m -= k;
      startedFromRoot = false;
    }
  }
  // SUBPROOF(m, D[m], b): nothing when b (the verifier already holds that root), MTH(D[m]) otherwise.
  const proof = startedFromRoot ? [] : [rangePlan(lo, hi)];
  return proof.concat(topDown.reverse());
}

/** Folds the hashes of a range's perfect subtrees (largest first) into the range's RFC 6962 hash. */
export function foldRange(hashes: readonly Hash[]): Hash {
  const last = hashes[hashes.length - 1];
  if (last === undefined) throw new RangeError('a range covers at least one subtree');
  let acc = last;
  for (let i = hashes.length - 2; i >= 0; i -= 1) acc = nodeHash(hashes[i] as Hash, acc);
  return acc;
}

/** Fetches every subtree the plans need with one `nodes()` call, then folds each plan. */
export async function resolvePlans(source: NodeSource, plans: readonly RangePlan[]): Promise<Hash[]> {
  const refs = plans.flat();
  if (refs.length === 0) return plans.map(() => Buffer.from(EMPTY_ROOT));
  const hashes = await source.nodes(refs);
  if (hashes.length !== refs.length) throw new Error(`node source returned ${hashes.length} hashes for ${refs.length} subtrees`);
  let at = 0;
  return plans.map((plan) => {
    const part = hashes.slice(at, at + plan.length);
    at += plan.length;
    return foldRange(part);
  });
}

/** MTH(D[0:size]) from a node source; size defaults to the source's current size. */
export async function rootAt(source: NodeSource, size?: number): Promise<Hash> {
  const n = await checkedSize(source, size ?? (await source.size()), 'size');
  if (n === 0) return Buffer.from(EMPTY_ROOT);
  const [root] = await resolvePlans(source, [rootPlan(n)]);
  return root as Hash;
}

/** RFC 6962 §2.1.1 audit path of leaf `index` in the tree of `size` leaves (default: the source's size). */
export async function inclusionProof(source: NodeSource, index: number, size?: number): Promise<Hash[]> {
  const n = await checkedSize(source, size ?? (await source.size()), 'size');
  return resolvePlans(source, inclusionPlan(index, n));
}

/** RFC 6962 §2.1.2 consistency proof from the tree of `size1` leaves to that of `size2` (default: the source's size). */
export async function consistencyProof(source: NodeSource, size1: number, size2?: number): Promise<Hash[]> {
  const n = await checkedSize(source, size2 ?? (await source.size()), 'size2');
  return resolvePlans(source, consistencyPlan(size1, n));
}

async function checkedSize(source: NodeSource, size: number, name: string): Promise<number> {
  assertSize(size, name);
  const current = await source.size();
  if (size > current) throw new RangeError(`${name} ${size} is beyond the tree's ${current} leaves`);
  return size;
}

/** A perfect subtree with its hash. */
export interface StoredNode extends NodeRef {
  readonly hash: Hash;
}

/**
 * Appends leaf hashes to a tree known only by its frontier — the perfect subtrees of
 * `rootPlan(size)`, with their hashes — and returns every perfect subtree of level ≥ 1 the new
 * leaves complete, plus the new frontier. This is all a store must write per append: each leaf
 * completes at most one subtree per level, so O(log n) hashes per leaf, O(1) amortised.
 */
export function extendFrontier(size: number, frontier: readonly StoredNode[], leafHashes: readonly Hash[]): { completed: StoredNode[]; frontier: StoredNode[] } {
  assertSize(size, 'size');
  const expected = rootPlan(size);
  if (frontier.length !== expected.length || frontier.some((node, i) => node.level !== expected[i]?.level || node.index !== expected[i]?.index || !isHash(node.hash))) {
    throw new RangeError(`the frontier of a tree of ${size} leaves is ${JSON.stringify(expected)}`);
  }
  // The frontier's subtrees have distinct levels, largest first: one open slot per level.
  const open = new Map<number, Hash>(frontier.map((node) => [node.level, node.hash]));
  const completed: StoredNode[] = [];
  let n = size;
  for (const hash of leafHashes) {
    if (!isHash(hash)) throw new TypeError('a leaf hash is 32 bytes');
    let level = 0;
    let index = n;
    let current = hash;
    // An odd index is a right child: its left sibling is the open subtree of that level.
    while (index % 2 === 1) {
      const left = open.get(level) as Hash;
      open.delete(level);
      current = nodeHash(left, current);
      level += 1;
      index = (index - 1) / 2;
      completed.push({ level, index, hash: current });
    }
    open.set(level, current);
    n += 1;
  }
  const next = rootPlan(n).map((ref) => ({ ...ref, hash: open.get(ref.level) as Hash }));
  return { completed, frontier: next };
}

/** The RFC 6962 §2.1 recursive definition of MTH over leaf hashes: the reference the stores are tested against. */
export function merkleRoot(leafHashes: readonly Hash[]): Hash {
  if (leafHashes.length === 0) return Buffer.from(EMPTY_ROOT);
  const mth = (lo: number, hi: number): Hash => {
    if (hi - lo === 1) return leafHashes[lo] as Hash;
    const k = splitPoint(hi - lo);
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  return mth(0, leafHashes.length);
}

/**
 * RFC 9162 §2.1.3.2: checks that `leaf` is leaf `index` of the tree of `size` leaves whose root
 * is `root`. Never throws on malformed input: a proof that cannot be read is a proof that fails.
 */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!isSafeSize(index) || !isSafeSize(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Hash = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of `size2` leaves with root `root2` extends the tree of
 * `size1` leaves with root `root1`. Equal sizes need an empty proof and equal roots; size 0 needs
 * an empty proof and the empty root.
 */
export function verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[]): boolean {
  if (!isSafeSize(size1) || !isSafeSize(size2) || size1 > size2) return false;
  if (!isHash(root1) || !isHash(root2) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (size1 === size2) return proof.length === 0 && equalHashes(root1, root2);
  if (size1 === 0) return proof.length === 0 && equalHashes(root1, EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalHashes(fr, root1) && equalHashes(sr, root2);
}

export function equalHashes(a: Hash, b: Hash): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function isHash(value: unknown): value is Hash {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && highestPowerOfTwoAtMost(n) === n;
}

function isSafeSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function assertSize(n: number, name: string): void {
  if (!isSafeSize(n)) throw new RangeError(`${name} must be a non-negative safe integer, got ${String(n)}`);
}
