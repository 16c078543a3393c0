import { EMPTY_ROOT, HASH_SIZE, foldRange, isHash, nodeHash, rootPlan, type Hash, type NodeRef, type NodeSource } from './merkle';

/**
 * An append-only Merkle tree in memory that keeps the hash of every perfect aligned subtree, so
 * any past root and any proof is O(log n) lookups, and an append is O(log n) hashes (it completes
 * at most one subtree per level). Used by the offline verifier and by tests as the reference
 * {@link NodeSource}.
 *
 * Each level is one contiguous buffer rather than an array of small buffers: a million leaves
 * cost 64 MB of hashes instead of several hundred MB of object headers.
 */
export class MemoryMerkleTree implements NodeSource {
  private readonly levels: Buffer[] = [];
  private readonly counts: number[] = [];
  private leaves = 0;

  /** Number of leaves appended so far. */
  get length(): number {
    return this.leaves;
  }

  /** Appends one leaf hash (already `leafHash(bytes)`), completing the perfect subtrees it closes. */
  append(hash: Hash): void {
    if (!isHash(hash)) throw new TypeError('a leaf hash is 32 bytes');
    let level = 0;
    let current: Hash = hash;
    for (;;) {
      const index = this.push(level, current);
      // An odd index is a right child: its parent is complete now.
      if (index % 2 === 0) break;
      current = nodeHash(this.slot(level, index - 1), current);
      level += 1;
    }
    this.leaves += 1;
  }

  appendAll(hashes: Iterable<Hash>): void {
    for (const hash of hashes) this.append(hash);
  }

  /** Hash of the perfect subtree (level, index); throws when that subtree is not complete yet. */
  node(level: number, index: number): Hash {
    const count = this.counts[level] ?? 0;
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`subtree (${level}, ${index}) is not in a tree of ${this.leaves} leaves`);
    }
    return Buffer.from(this.slot(level, index));
  }

  /** MTH(D[0:size]) for any size up to the current one: past roots stay answerable. */
  rootAt(size: number = this.leaves): Hash {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.leaves) {
      throw new RangeError(`size ${size} is beyond the tree's ${this.leaves} leaves`);
    }
    if (size === 0) return Buffer.from(EMPTY_ROOT);
    // A copy: the fold of a single subtree is a view into the tree's own storage.
    return Buffer.from(foldRange(rootPlan(size).map((ref) => this.slot(ref.level, ref.index))));
  }

  size(): Promise<number> {
    return Promise.resolve(this.leaves);
  }

  nodes(refs: readonly NodeRef[]): Promise<Hash[]> {
    try {
      return Promise.resolve(refs.map((ref) => this.node(ref.level, ref.index)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private slot(level: number, index: number): Buffer {
    const buffer = this.levels[level] as Buffer;
    return buffer.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  /** Stores a completed subtree hash at the end of its level; returns its index. */
  private push(level: number, hash: Hash): number {
    const count = this.counts[level] ?? 0;
    let buffer = this.levels[level];
    if (buffer === undefined || buffer.length < (count + 1) * HASH_SIZE) {
      const grown = Buffer.allocUnsafe(Math.max(64, count * 2) * HASH_SIZE);
      buffer?.copy(grown, 0, 0, count * HASH_SIZE);
      buffer = grown;
      this.levels[level] = buffer;
    }
    buffer.set(hash, count * HASH_SIZE);
    this.counts[level] = count + 1;
    return count;
  }
}
