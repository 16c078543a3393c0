import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeVerifierKey, verifierKeyOf, verifyCheckpoint } from './checkpoint';
import { leafHash } from './merkle';
import { PUBLIC_KEYS_FORMAT, SigningKeyError, openSigningKeyring, readVerifierKeys, rotateSigningKey, type SigningKeyringOptions } from './signingKeyring';

const ORIGIN = 'fitledger.test/audit';
const dirs: string[] = [];
let options: SigningKeyringOptions;

beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fitledger-audit-keys-'));
  dirs.push(dir);
  options = { name: ORIGIN, signingKeyFile: join(dir, 'secret', 'signing-key.pem'), publicKeysFile: join(dir, 'public', 'public-keys.json'), createIfMissing: true };
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SigningKeyError) return error.code;
    throw error;
  }
  return undefined;
}

function head(size: number, day: number): { size: number; rootHash: Uint8Array; timestamp: Date } {
  return { size, rootHash: leafHash(Buffer.from(`root ${size}`)), timestamp: new Date(Date.UTC(2024, 6, day)) };
}

describe('SigningKeyring', () => {
  it('creates a missing key in dev with mode 0600 and publishes its verifier key', async () => {
    const keyring = await openSigningKeyring(options);
    expect((await stat(options.signingKeyFile)).mode & 0o777).toBe(0o600);
    const published = JSON.parse(await readFile(options.publicKeysFile, 'utf8')) as { format: string; keys: { vkey: string; status: string }[] };
    expect(published.format).toBe(PUBLIC_KEYS_FORMAT);
    expect(published.keys).toEqual([expect.objectContaining({ vkey: encodeVerifierKey(keyring.current), status: 'current' })]);
    // Opening again reads the same key rather than making another.
    const again = await openSigningKeyring(options);
    expect(again.current.keyId).toBe(keyring.current.keyId);
    expect(again.published).toHaveLength(1);
  });

  it('refuses to start without a key when creating one is not allowed', async () => {
    expect(await codeOf(openSigningKeyring({ ...options, createIfMissing: false }))).toBe('SIGNING_KEY_MISSING');
  });

  it('refuses a private key file others can read', async () => {
    await openSigningKeyring(options);
    await chmod(options.signingKeyFile, 0o644);
    expect(await codeOf(openSigningKeyring(options))).toBe('SIGNING_KEY_UNSAFE');
  });

  it('signs checkpoints that verify under the published keys', async () => {
    const keyring = await openSigningKeyring(options);
    const note = keyring.signCheckpoint(head(10, 1));
    const checkpoint = verifyCheckpoint(note, await readVerifierKeys(options.publicKeysFile), ORIGIN);
    expect(checkpoint.size).toBe(10);
  });

  it('after a rotation, old and new checkpoints both verify with the published keys, and the old key is gone', async () => {
    const before = await openSigningKeyring(options);
    const oldPem = await readFile(options.signingKeyFile, 'utf8');
    const oldNote = before.signCheckpoint(head(10, 1));
    const after = await rotateSigningKey(options);
    const newNote = after.signCheckpoint(head(20, 2));

    expect(after.current.keyId).not.toBe(before.current.keyId);
    expect(await readFile(options.signingKeyFile, 'utf8')).not.toBe(oldPem);
    expect((await stat(options.signingKeyFile)).mode & 0o777).toBe(0o600);
    expect(after.published.map((k) => k.status)).toEqual(['retired', 'current']);
    expect(after.published[0]?.retiredAt).not.toBeNull();

    const published = await readVerifierKeys(options.publicKeysFile);
    expect(published).toHaveLength(2);
    expect(verifyCheckpoint(oldNote, published, ORIGIN).signedBy.keyId).toBe(before.current.keyId);
    expect(verifyCheckpoint(newNote, published, ORIGIN).signedBy.keyId).toBe(after.current.keyId);
    // The published folder works as well as the file.
    expect(await readVerifierKeys(join(options.publicKeysFile, '..'))).toHaveLength(2);
    // A reopened keyring signs with the new key.
    expect((await openSigningKeyring(options)).current.keyId).toBe(after.current.keyId);
  });

  it('finishes a rotation interrupted after the new key was published', async () => {
    const before = await openSigningKeyring(options);
    // The state a crash between "publish" and "move into place" leaves behind.
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(`${options.signingKeyFile}.next`, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const next = verifierKeyOf(ORIGIN, privateKey);
    await writeFile(options.publicKeysFile, JSON.stringify({
      format: PUBLIC_KEYS_FORMAT,
      keys: [
        { ...before.published[0], status: 'retired', retiredAt: new Date().toISOString() },
        { vkey: encodeVerifierKey(next), status: 'current', createdAt: new Date().toISOString(), retiredAt: null },
      ],
    }));
    const reopened = await openSigningKeyring(options);
    expect(reopened.current.keyId).toBe(next.keyId);
    await expect(stat(`${options.signingKeyFile}.next`)).rejects.toThrow(/ENOENT/);
  });

  it('never signs again with a key that was retired', async () => {
    await openSigningKeyring(options);
    const oldPem = await readFile(options.signingKeyFile, 'utf8');
    await rotateSigningKey(options);
    // Someone restores the old key file from a backup.
    await writeFile(options.signingKeyFile, oldPem, { mode: 0o600 });
    expect(await codeOf(openSigningKeyring(options))).toBe('SIGNING_KEY_RETIRED');
  });
});
