/**
 * The log's checkpoint signing key and its published verifier keys.
 *
 * The private key lives in a PEM file outside the database (`AUDIT_SIGNING_KEY_FILE`): someone
 * who can rewrite the audit tables must not also be able to sign a matching checkpoint. The
 * verifier keys — the current one and every retired one — are published in a JSON file
 * (`AUDIT_PUBLIC_KEYS_FILE`), because a checkpoint signed years ago must still verify after any
 * number of rotations. Retired private keys are not kept: nothing may sign with them again.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CheckpointError,
  ed25519NoteSigner,
  encodeVerifierKey,
  parseVerifierKey,
  signCheckpoint,
  verifierKeyOf,
  type Checkpoint,
  type NoteSigner,
  type NoteVerifierKey,
} from './checkpoint';
import { createFileOnce, ensureDirectory, ensurePrivateDirectory, fsyncDirectory, replaceFile } from './durableFiles';

/** One published verifier key. */
export interface PublishedKey {
  /** Verifier key text `<name>+<key id>+<base64 key>` (C2SP signed-note, Go `note` package). */
  readonly vkey: string;
  readonly status: 'current' | 'retired';
  readonly createdAt: string;
  readonly retiredAt: string | null;
}

/** The published key file: JSON, one object. */
export interface PublicKeysDocument {
  readonly format: typeof PUBLIC_KEYS_FORMAT;
  readonly keys: readonly PublishedKey[];
}

export const PUBLIC_KEYS_FORMAT = 'fitledger-audit-public-keys/v1';

export interface SigningKeyringOptions {
  /** Key name: the log origin written on checkpoints. */
  readonly name: string;
  readonly signingKeyFile: string;
  readonly publicKeysFile: string;
  /** Generate a key (mode 0600) when the file is absent — for dev; production keys are provisioned. */
  readonly createIfMissing: boolean;
  readonly now?: () => Date;
}

/** Why the keyring could not be opened or rotated; `code` is stable. */
export class SigningKeyError extends Error {
  constructor(
    readonly code: 'SIGNING_KEY_MISSING' | 'SIGNING_KEY_UNSAFE' | 'SIGNING_KEY_INVALID' | 'SIGNING_KEY_RETIRED' | 'PUBLIC_KEYS_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/** The current signing key and every published verifier key. */
export class SigningKeyring {
  constructor(
    readonly signer: NoteSigner,
    readonly current: NoteVerifierKey,
    readonly published: readonly PublishedKey[],
  ) {}

  /** Every published key, current and retired: what a verifier of old checkpoints needs. */
  verifierKeys(): NoteVerifierKey[] {
    return this.published.map((key) => parseVerifierKey(key.vkey));
  }

  /** Signs a tree head as a checkpoint of this log (origin = key name). */
  signCheckpoint(head: Omit<Checkpoint, 'origin'>): string {
    return signCheckpoint({ ...head, origin: this.signer.name }, this.signer);
  }
}

const PEM_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * Opens the keyring: reads the PEM key (creating it when absent and allowed), makes sure its
 * verifier key is published, and finishes a rotation a crash interrupted.
 */
export async function openSigningKeyring(options: SigningKeyringOptions): Promise<SigningKeyring> {
  const now = options.now ?? (() => new Date());
  let published = await readPublicKeysDocument(options.publicKeysFile);
  await finishInterruptedRotation(options, published);
  let privateKey = await readPrivateKey(options.signingKeyFile);
  if (privateKey === undefined) {
    if (!options.createIfMissing) {
      throw new SigningKeyError('SIGNING_KEY_MISSING', `AUDIT_SIGNING_KEY_FILE: no signing key at ${options.signingKeyFile} (provision one, or allow creation with AUDIT_SIGNING_KEY_CREATE=true in dev)`);
    }
    await ensurePrivateDirectory(dirname(options.signingKeyFile));
    // Two processes starting together: whoever links first wins, the other reads that key.
    await createFileOnce(options.signingKeyFile, newPrivateKeyPem(), PEM_MODE);
    privateKey = await readPrivateKey(options.signingKeyFile);
    if (privateKey === undefined) throw new SigningKeyError('SIGNING_KEY_MISSING', `AUDIT_SIGNING_KEY_FILE: ${options.signingKeyFile} vanished while being created`);
  }
  const current = verifierKeyOf(options.name, privateKey);
  const vkey = encodeVerifierKey(current);
  const entry = published.find((key) => key.vkey === vkey);
  if (entry?.status === 'retired') {
    throw new SigningKeyError('SIGNING_KEY_RETIRED', `AUDIT_SIGNING_KEY_FILE: the key in ${options.signingKeyFile} was retired; a retired key never signs again`);
  }
  if (entry === undefined) {
    // A key not yet published (first start, or a key provisioned by hand): publish it before it
    // signs anything, so no checkpoint ever exists that the published keys cannot verify.
    const at = now().toISOString();
    published = [...published.map((key) => (key.status === 'current' ? { ...key, status: 'retired' as const, retiredAt: at } : key)), { vkey, status: 'current', createdAt: at, retiredAt: null }];
    await writePublicKeysDocument(options.publicKeysFile, published);
  }
  return new SigningKeyring(ed25519NoteSigner(options.name, privateKey), current, published);
}

/**
 * Replaces the signing key with a new one. The new verifier key is published (and the old one
 * marked retired, still published) before the new private key takes the old one's place, so every
 * checkpoint either key ever signs stays verifiable. Processes holding the old keyring must reopen it.
 */
export async function rotateSigningKey(options: Omit<SigningKeyringOptions, 'createIfMissing'>): Promise<SigningKeyring> {
  const now = options.now ?? (() => new Date());
  const old = await openSigningKeyring({ ...options, createIfMissing: false });
  const next = nextKeyFile(options.signingKeyFile);
  await unlink(next).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const pem = newPrivateKeyPem();
  if (!(await createFileOnce(next, pem, PEM_MODE))) throw new SigningKeyError('SIGNING_KEY_UNSAFE', `${next} appeared during the rotation`);
  const newKey = verifierKeyOf(options.name, createPrivateKey(pem));
  const at = now().toISOString();
  const published: PublishedKey[] = [
    ...old.published.map((key) => (key.status === 'current' ? { ...key, status: 'retired' as const, retiredAt: at } : key)),
    { vkey: encodeVerifierKey(newKey), status: 'current', createdAt: at, retiredAt: null },
  ];
  await writePublicKeysDocument(options.publicKeysFile, published);
  await replaceSigningKey(options.signingKeyFile);
  return openSigningKeyring({ ...options, createIfMissing: false });
}

/**
 * Reads published verifier keys from a public keys JSON file, a text file of verifier keys (one
 * per line), or a directory of such files (`*.json`, `*.vkey`).
 */
export async function readVerifierKeys(path: string): Promise<NoteVerifierKey[]> {
  const info = await stat(path);
  const files = info.isDirectory()
    ? (await readdir(path)).filter((name) => name.endsWith('.json') || name.endsWith('.vkey')).sort().map((name) => join(path, name))
    : [path];
  const keys: NoteVerifierKey[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const vkeys = file.endsWith('.json') ? parsePublicKeysDocument(text, file).keys.map((key) => key.vkey) : text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const vkey of vkeys) {
      const key = parseVerifierKey(vkey);
      if (!keys.some((k) => k.name === key.name && k.publicKey.equals(key.publicKey))) keys.push(key);
    }
  }
  return keys;
}

export function parsePublicKeysDocument(text: string, source: string): PublicKeysDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SigningKeyError('PUBLIC_KEYS_INVALID', `${source} is not JSON`);
  }
  const doc = value as Partial<PublicKeysDocument> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== PUBLIC_KEYS_FORMAT || !Array.isArray(doc.keys)) {
    throw new SigningKeyError('PUBLIC_KEYS_INVALID', `${source} is not a ${PUBLIC_KEYS_FORMAT} document`);
  }
  const keys: PublishedKey[] = [];
  for (const key of doc.keys as unknown[]) {
    const k = key as Partial<PublishedKey> | null;
    if (k === null || typeof k !== 'object' || typeof k.vkey !== 'string' || (k.status !== 'current' && k.status !== 'retired') || typeof k.createdAt !== 'string') {
      throw new SigningKeyError('PUBLIC_KEYS_INVALID', `${source} holds a key entry without vkey, status and createdAt`);
    }
    try {
      parseVerifierKey(k.vkey);
    } catch (error) {
      if (error instanceof CheckpointError) throw new SigningKeyError('PUBLIC_KEYS_INVALID', `${source}: ${error.message}`);
      throw error;
    }
    keys.push({ vkey: k.vkey, status: k.status, createdAt: k.createdAt, retiredAt: typeof k.retiredAt === 'string' ? k.retiredAt : null });
  }
  return { format: PUBLIC_KEYS_FORMAT, keys };
}

async function readPublicKeysDocument(path: string): Promise<PublishedKey[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return [...parsePublicKeysDocument(text, path).keys];
}

async function writePublicKeysDocument(path: string, keys: readonly PublishedKey[]): Promise<void> {
  await ensureDirectory(dirname(path));
  const doc: PublicKeysDocument = { format: PUBLIC_KEYS_FORMAT, keys };
  await replaceFile(path, `${JSON.stringify(doc, null, 2)}\n`, PUBLIC_MODE);
}

async function readPrivateKey(path: string): Promise<KeyObject | undefined> {
  let pem: string;
  try {
    const info = await stat(path);
    // Like ssh: a private key others can read is not a secret any more; refuse rather than sign with it.
    if ((info.mode & 0o077) !== 0) {
      throw new SigningKeyError('SIGNING_KEY_UNSAFE', `AUDIT_SIGNING_KEY_FILE: ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new SigningKeyError('SIGNING_KEY_INVALID', `AUDIT_SIGNING_KEY_FILE: ${path} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError('SIGNING_KEY_INVALID', `AUDIT_SIGNING_KEY_FILE: ${path} is not an Ed25519 key`);
  return key;
}

function newPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function nextKeyFile(signingKeyFile: string): string {
  return `${signingKeyFile}.next`;
}

async function replaceSigningKey(signingKeyFile: string): Promise<void> {
  await rename(nextKeyFile(signingKeyFile), signingKeyFile);
  await fsyncDirectory(dirname(signingKeyFile));
}

/**
 * A rotation that crashed after publishing the new key but before moving it into place leaves
 * `<key file>.next` holding the published current key: finish the move. A `.next` whose key was
 * never published is discarded (it never signed anything).
 */
async function finishInterruptedRotation(options: SigningKeyringOptions, published: readonly PublishedKey[]): Promise<void> {
  const next = nextKeyFile(options.signingKeyFile);
  const key = await readPrivateKey(next);
  if (key === undefined) return;
  const vkey = encodeVerifierKey(verifierKeyOf(options.name, key));
  if (published.some((entry) => entry.vkey === vkey && entry.status === 'current')) await replaceSigningKey(options.signingKeyFile);
  else await unlink(next);
}
