import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transitKeyName } from './vaultKeyStore';

/** Vault's rule for a Transit key name (framework.GenericNameRegex), which the name must also fit. */
const VAULT_NAME = /^\w(([\w.@-]+)?\w)?$/;

describe('transit key names', () => {
  it('uses a UUID or other word-and-hyphen id verbatim after the prefix', () => {
    expect(transitKeyName('0190f3a4-7b1c-7d2e-9f00-123456789abc')).toBe('fitledger-subject-0190f3a4-7b1c-7d2e-9f00-123456789abc');
    expect(transitKeyName('subject_1')).toBe('fitledger-subject-subject_1');
  });

  it('hashes ids that hold other characters, so no id can reach another path of the Vault API', () => {
    for (const id of ['../../sys/policy/root', 'a/b', 'a%2Fb', 'a.b', 'a b', 'a-', 'ü', `${'x'.repeat(101)}`]) {
      const digest = createHash('sha256').update(id, 'utf8').digest('hex');
      expect(transitKeyName(id)).toBe(`fitledger-subject-sha256.${digest}`);
    }
  });

  it('always yields a valid Vault key name under the prefix, and different names for different ids', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const name = transitKeyName(a);
        expect(name).toMatch(VAULT_NAME);
        expect(name.startsWith('fitledger-subject-')).toBe(true);
        expect(name).not.toContain('/');
        if (a !== b) expect(transitKeyName(b)).not.toBe(name);
      }),
    );
    // A verbatim id never contains ".", so it cannot spell a hashed name.
    expect(transitKeyName(`sha256.${'0'.repeat(64)}`)).not.toBe(`fitledger-subject-sha256.${'0'.repeat(64)}`);
  });
});
