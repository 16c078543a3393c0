import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  consistencyPlan,
  consistencyProof,
  extendFrontier,
  inclusionPlan,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootAt,
  rootPlan,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeRef,
  type NodeSource,
  type StoredNode,
} from './merkle';
import { MemoryMerkleTree } from './memoryMerkleTree';

const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

// Certificate Transparency's RFC 6962 test vectors (the leaves and heads every implementation
// checks against), kept as data: an implementation that only agrees with itself proves nothing.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(unhex(h)));
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];
const CT_CONSISTENCY = [
  { size1: 2, size2: 8, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { size1: 6, size2: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { size1: 2, size2: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

// RFC 6962 §2.1.1 and §2.1.2 written as the RFC writes them (recursion over leaf lists): the
// reference the planned, node-source-backed proofs must equal.
function referencePath(m: number, d: readonly Hash[]): Hash[] {
  if (d.length <= 1) return [];
  const k = splitPoint(d.length);
  return m < k ? [...referencePath(m, d.slice(0, k)), merkleRoot(d.slice(k))] : [...referencePath(m - k, d.slice(k)), merkleRoot(d.slice(0, k))];
}
function referenceSubproof(m: number, d: readonly Hash[], b: boolean): Hash[] {
  if (m === d.length) return b ? [] : [merkleRoot(d)];
  const k = splitPoint(d.length);
  return m <= k ? [...referenceSubproof(m, d.slice(0, k), b), merkleRoot(d.slice(k))] : [...referenceSubproof(m - k, d.slice(k), false), merkleRoot(d.slice(0, k))];
}

function leavesOf(n: number, salt = 0): Hash[] {
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${salt} ${i}`)));
}

function treeOf(leaves: readonly Hash[]): MemoryMerkleTree {
  const tree = new MemoryMerkleTree();
  tree.appendAll(leaves);
  return tree;
}

function flipBit(h: Hash, bit: number): Buffer {
  const copy = Buffer.from(h);
  copy[Math.floor(bit / 8) % copy.length] = (copy[Math.floor(bit / 8) % copy.length] as number) ^ (1 << bit % 8);
  return copy;
}

/** Counts round trips and subtrees asked, to hold generation to one O(log n) fetch. */
class CountingSource implements NodeSource {
  calls = 0;
  asked = 0;
  constructor(private readonly inner: NodeSource) {}
  size(): Promise<number> {
    return this.inner.size();
  }
  nodes(refs: readonly NodeRef[]): Promise<Hash[]> {
    this.calls += 1;
    this.asked += refs.length;
    return this.inner.nodes(refs);
  }
}

describe('RFC 6962 hashing', () => {
  it('matches the Certificate Transparency roots for every size 0..8', () => {
    const tree = new MemoryMerkleTree();
    expect(hex(tree.rootAt())).toBe(CT_ROOTS[0]);
    expect(hex(EMPTY_ROOT)).toBe(CT_ROOTS[0]);
    CT_LEAVES.forEach((leaf, i) => {
      tree.append(leaf);
      expect(hex(tree.rootAt()), `size ${i + 1}`).toBe(CT_ROOTS[i + 1]);
      expect(hex(merkleRoot(CT_LEAVES.slice(0, i + 1)))).toBe(CT_ROOTS[i + 1]);
    });
  });

  it('prefixes leaves with 0x00 and interior nodes with 0x01', () => {
    const a = Buffer.from('a');
    expect(hex(leafHash(a))).toBe(createHash('sha256').update(Buffer.from([0, 0x61])).digest('hex'));
    const [l, r] = [leafHash(Buffer.from('l')), leafHash(Buffer.from('r'))];
    expect(hex(nodeHash(l, r))).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([1]), l, r])).digest('hex'));
  });

  it('splits at the largest power of two smaller than n, not at the midpoint', () => {
    const cases: [number, number][] = [[2, 1], [3, 2], [4, 2], [5, 4], [6, 4], [8, 4], [9, 8], [1000, 512], [2 ** 40, 2 ** 39], [2 ** 40 + 1, 2 ** 40], [2 ** 52 + 3, 2 ** 52]];
    for (const [n, k] of cases) expect(splitPoint(n), `n = ${n}`).toBe(k);
  });

  it('computes the same root incrementally as the recursive definition, at the current and at past sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer(), fc.array(fc.nat(), { maxLength: 8 }), (n, salt, picks) => {
        const leaves = leavesOf(n, salt);
        const tree = treeOf(leaves);
        expect(tree.length).toBe(n);
        for (const size of [0, n, ...picks.map((p) => p % (n + 1))]) expect(hex(tree.rootAt(size))).toBe(hex(merkleRoot(leaves.slice(0, size))));
      }),
      { numRuns: 60 },
    );
  });
});

describe('extending a tree from its frontier', () => {
  it('completes exactly the subtrees the in-memory tree stores, whatever the batch sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), (batches) => {
        const total = batches.reduce((a, b) => a + b, 0);
        const leaves = leavesOf(total);
        const reference = treeOf(leaves);
        let size = 0;
        let frontier: StoredNode[] = [];
        const completed = new Map<string, string>();
        for (const count of batches) {
          const result = extendFrontier(size, frontier, leaves.slice(size, size + count));
          for (const node of result.completed) completed.set(`${node.level}:${node.index}`, hex(node.hash));
          size += count;
          frontier = result.frontier;
          expect(frontier.map(({ level, index }) => ({ level, index }))).toEqual(rootPlan(size));
        }
        // Every perfect subtree of level >= 1 was completed once, with the reference hash.
        let expected = 0;
        for (let level = 1; 2 ** level <= total; level += 1) {
          for (let index = 0; (index + 1) * 2 ** level <= total; index += 1) {
            expected += 1;
            expect(completed.get(`${level}:${index}`)).toBe(hex(reference.node(level, index)));
          }
        }
        expect(completed.size).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a frontier that is not the one of the given size', () => {
    const tree = treeOf(leavesOf(6));
    const wrong: StoredNode[] = [{ level: 2, index: 0, hash: tree.node(2, 0) }];
    expect(() => extendFrontier(6, wrong, [])).toThrow(RangeError);
  });
});

describe('inclusion proofs', () => {
  it('reproduces the Certificate Transparency audit paths', async () => {
    const tree = treeOf(CT_LEAVES);
    for (const v of CT_INCLUSION) {
      const proof = await inclusionProof(tree, v.index, v.size);
      expect(proof.map(hex)).toEqual(v.proof);
      expect(verifyInclusion(CT_LEAVES[v.index] as Hash, v.index, v.size, proof, unhex(CT_ROOTS[v.size] as string))).toBe(true);
    }
  });

  it('generates the RFC 6962 PATH for every leaf of random trees, and each verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 400 }), fc.nat(), fc.integer({ min: 0, max: 400 }), async (n, rawIndex, extra) => {
        const leaves = leavesOf(n + extra);
        const tree = treeOf(leaves);
        const index = rawIndex % n;
        const proof = await inclusionProof(tree, index, n);
        expect(proof.map(hex)).toEqual(referencePath(index, leaves.slice(0, n)).map(hex));
        expect(verifyInclusion(leaves[index] as Hash, index, n, proof, tree.rootAt(n))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('fails when any single bit of the leaf, a proof hash or the root changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), fc.nat({ max: 255 }), async (n, rawIndex, target, bit) => {
        const leaves = leavesOf(n);
        const tree = treeOf(leaves);
        const index = rawIndex % n;
        const leaf = leaves[index] as Hash;
        const root = tree.rootAt();
        const proof = await inclusionProof(tree, index, n);
        const slot = target % (proof.length + 2);
        if (slot === 0) expect(verifyInclusion(flipBit(leaf, bit), index, n, proof, root)).toBe(false);
        else if (slot === 1) expect(verifyInclusion(leaf, index, n, proof, flipBit(root, bit))).toBe(false);
        else {
          const tampered = proof.map((h, i) => (i === slot - 2 ? flipBit(h, bit) : h));
          expect(verifyInclusion(leaf, index, n, tampered, root)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('fails for another index, another tree\'s root, a truncated or an extended proof', async () => {
    const leaves = leavesOf(37);
    const tree = treeOf(leaves);
    for (let index = 0; index < 37; index += 1) {
      const proof = await inclusionProof(tree, index);
      const leaf = leaves[index] as Hash;
      const root = tree.rootAt();
      expect(verifyInclusion(leaf, index, 37, proof, root)).toBe(true);
      expect(verifyInclusion(leaf, (index + 1) % 37, 37, proof, root)).toBe(false);
      // (The size alone is not always bound: for a leaf in the left perfect subtree, 37 and 38
      // leaves give the same path shape. The root of the other size is what tells them apart.)
      if (index < 36) expect(verifyInclusion(leaf, index, 37, proof, tree.rootAt(36))).toBe(false);
      expect(verifyInclusion(leaf, index, 37, proof.slice(0, -1), root)).toBe(false);
      expect(verifyInclusion(leaf, index, 37, [...proof, leaf], root)).toBe(false);
      expect(verifyInclusion(leaf, 37, 37, proof, root)).toBe(false);
    }
  });

  it('asks the node source once, for at most 2·log2(n) subtrees', async () => {
    const tree = treeOf(leavesOf(1000));
    for (const [index, size] of [[0, 1000], [999, 1000], [517, 1000], [511, 513], [3, 7]] as const) {
      const source = new CountingSource(tree);
      await inclusionProof(source, index, size);
      expect(source.calls).toBe(1);
      expect(source.asked).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
    }
  });

  it('refuses an index outside the tree or a size beyond it', async () => {
    const tree = treeOf(leavesOf(5));
    await expect(inclusionProof(tree, 5, 5)).rejects.toThrow(RangeError);
    await expect(inclusionProof(tree, 0, 6)).rejects.toThrow(RangeError);
  });
});

describe('consistency proofs', () => {
  it('reproduces the Certificate Transparency consistency proofs', async () => {
    const tree = treeOf(CT_LEAVES);
    for (const v of CT_CONSISTENCY) {
      const proof = await consistencyProof(tree, v.size1, v.size2);
      expect(proof.map(hex)).toEqual(v.proof);
      expect(verifyConsistency(v.size1, v.size2, unhex(CT_ROOTS[v.size1] as string), unhex(CT_ROOTS[v.size2] as string), proof)).toBe(true);
    }
  });

  it('generates the RFC 6962 PROOF for random size pairs, and each verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 400 }), fc.nat(), async (n, rawM) => {
        const leaves = leavesOf(n);
        const tree = treeOf(leaves);
        const m = rawM % (n + 1);
        const proof = await consistencyProof(tree, m, n);
        const expected = m === 0 ? [] : referenceSubproof(m, leaves, true);
        expect(proof.map(hex)).toEqual(expected.map(hex));
        expect(verifyConsistency(m, n, tree.rootAt(m), tree.rootAt(n), proof)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('fails when any single bit of either root or a proof hash changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), fc.nat({ max: 255 }), async (n, rawM, target, bit) => {
        const tree = treeOf(leavesOf(n));
        const m = 1 + (rawM % (n - 1)); // 0 < m < n: a proof with content
        const [root1, root2] = [tree.rootAt(m), tree.rootAt(n)];
        const proof = await consistencyProof(tree, m, n);
        const slot = target % (proof.length + 2);
        if (slot === 0) expect(verifyConsistency(m, n, flipBit(root1, bit), root2, proof)).toBe(false);
        else if (slot === 1) expect(verifyConsistency(m, n, root1, flipBit(root2, bit), proof)).toBe(false);
        else {
          const tampered = proof.map((h, i) => (i === slot - 2 ? flipBit(h, bit) : h));
          expect(verifyConsistency(m, n, root1, root2, tampered)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('handles the degenerate cases the way RFC 9162 §2.1.4 does', () => {
    const tree = treeOf(leavesOf(8));
    const [r4, r5, r8] = [tree.rootAt(4), tree.rootAt(5), tree.rootAt(8)];
    expect(verifyConsistency(4, 4, r4, r4, [])).toBe(true);
    expect(verifyConsistency(4, 4, r4, r5, [])).toBe(false);
    expect(verifyConsistency(4, 4, r4, r4, [r4])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, r8, [])).toBe(true);
    expect(verifyConsistency(0, 8, r4, r8, [])).toBe(false);
    expect(verifyConsistency(4, 8, r4, r8, [])).toBe(false);
    expect(verifyConsistency(8, 4, r8, r4, [])).toBe(false);
  });

  it('fails for a truncated or extended proof and for swapped sizes', async () => {
    const tree = treeOf(leavesOf(64));
    for (let n = 2; n <= 64; n += 1) {
      for (let m = 1; m < n; m += 1) {
        const proof = await consistencyProof(tree, m, n);
        const [r1, r2] = [tree.rootAt(m), tree.rootAt(n)];
        expect(verifyConsistency(m, n, r1, r2, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, r1, r2, [...proof, r1])).toBe(false);
        expect(verifyConsistency(m, n, r2, r1, proof)).toBe(false);
      }
    }
  });

  it('asks the node source once, for at most 2·log2(n) subtrees', async () => {
    const tree = treeOf(leavesOf(1000));
    for (const [m, n] of [[1, 1000], [999, 1000], [513, 1000], [7, 13], [512, 1000]] as const) {
      const source = new CountingSource(tree);
      await consistencyProof(source, m, n);
      expect(source.calls).toBe(1);
      expect(source.asked).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    }
  });
});

describe('proof planning at sizes far beyond 32 bits', () => {
  // With every leaf equal, a perfect subtree's hash depends only on its level, so a source can
  // stand for a tree of 2^45 leaves; this catches any arithmetic that truncates to 32 bits.
  const leaf = leafHash(Buffer.from('same'));
  const levelHashes: Hash[] = [leaf];
  for (let l = 1; l <= 53; l += 1) levelHashes.push(nodeHash(levelHashes[l - 1] as Hash, levelHashes[l - 1] as Hash));
  const size = 2 ** 45 + 12_345;
  const source: NodeSource = {
    size: () => Promise.resolve(size),
    nodes: (refs) => Promise.resolve(refs.map((ref) => {
      if (!Number.isSafeInteger(ref.index) || (ref.index + 1) * 2 ** ref.level > size) throw new RangeError('outside');
      return levelHashes[ref.level] as Hash;
    })),
  };

  it('plans exact subtree indexes', () => {
    const plan = inclusionPlan(size - 1, size);
    expect(plan[plan.length - 1]).toEqual([{ level: 45, index: 0 }]);
    // 12 345 = 8192 + 4096 + 32 + 16 + 8 + 1: the new leaves, largest aligned subtree first.
    expect(consistencyPlan(2 ** 45, size)).toEqual([[
      { level: 13, index: 2 ** 32 },
      { level: 12, index: 2 ** 33 + 2 },
      { level: 5, index: 2 ** 40 + 384 },
      { level: 4, index: 2 ** 41 + 770 },
      { level: 3, index: 2 ** 42 + 1542 },
      { level: 0, index: 2 ** 45 + 12_344 },
    ]]);
  });

  it('produces proofs that verify', async () => {
    const root = await rootAt(source);
    for (const index of [0, 2 ** 33 + 5, 2 ** 45 - 1, 2 ** 45, size - 1]) {
      expect(verifyInclusion(leaf, index, size, await inclusionProof(source, index), root), `index ${index}`).toBe(true);
    }
    for (const m of [1, 2 ** 32 + 1, 2 ** 45, size - 1]) {
      expect(verifyConsistency(m, size, await rootAt(source, m), root, await consistencyProof(source, m)), `size1 ${m}`).toBe(true);
    }
  });
});
