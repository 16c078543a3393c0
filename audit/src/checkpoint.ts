/**
 * Signed checkpoints (tree heads) in the C2SP formats, so that tools outside FitLedger — Go's
 * `golang.org/x/mod/sumdb/note`, transparency-dev witnesses — can read and check them:
 *
 * - https://c2sp.org/signed-note — text ending in a newline, a blank line, then signature lines
 *   `— <key name> base64(key ID (4 bytes) || Ed25519 signature)`, with
 *   key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4].
 * - https://c2sp.org/tlog-checkpoint — note text `<origin>\n<tree size>\n<base64 root hash>\n`
 *   plus optional extension lines.
 *
 * The checkpoint's time is one extension line, `timestamp <ISO 8601 UTC>`. The spec discourages
 * extension lines because monitors cannot audit them; we need the time signed (an auditor asks
 * "what did the log hold on that date") and the alternative, the timestamped witness cosignature
 * (signature type 0x04), is a witness's format, not a log's.
 *
 * Verifier keys are written in the `note` package's text form `<name>+<hex key ID>+<base64(0x01
 * || public key)>`, so a published key file can be fed to other verifiers unchanged.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_SIZE, isHash, type Hash } from './merkle';

/** A tree head: what a checkpoint states. */
export interface Checkpoint {
  /** The log's identity; checkpoints are signed by a key of the same name. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Hash;
  /** When the log signed it (millisecond precision). */
  readonly timestamp: Date;
}

/** Signs note text with one named key (Ed25519, signature type 0x01). */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Buffer): Buffer;
}

/** A trusted public key for note signatures. */
export interface NoteVerifierKey {
  readonly name: string;
  readonly keyId: number;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
}

export type NoteErrorCode = 'MALFORMED_NOTE' | 'MALFORMED_CHECKPOINT' | 'UNVERIFIED_NOTE' | 'INVALID_SIGNATURE' | 'AMBIGUOUS_KEY' | 'ORIGIN_MISMATCH' | 'MALFORMED_KEY';

/** Why a note or checkpoint was refused; `code` is stable. */
export class CheckpointError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const SIGNATURE_TYPE_ED25519 = 0x01;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** The spec asks verifiers to accept at least 16 signatures; a cap keeps a hostile note cheap to refuse. */
const MAX_SIGNATURES = 100;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP_PREFIX = 'timestamp ';

/** Key names must be non-empty and hold no Unicode space and no '+' (signed-note §Format). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControlCharacters(name);
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4], big-endian (signed-note §Ed25519 signatures). */
export function noteKeyId(name: string, publicKey: Buffer): number {
  const digest = createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, SIGNATURE_TYPE_ED25519])).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

/** The raw 32-byte Ed25519 public key of a node:crypto key object (public or private). */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new CheckpointError('MALFORMED_KEY', 'the key is not an Ed25519 key');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(spki.length - 32));
}

/** A note signer over an Ed25519 private key. */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (!isValidKeyName(name)) throw new CheckpointError('MALFORMED_KEY', `invalid key name ${JSON.stringify(name)}`);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new CheckpointError('MALFORMED_KEY', 'the signing key must be an Ed25519 private key');
  const keyId = noteKeyId(name, rawEd25519PublicKey(privateKey));
  return { name, keyId, sign: (message) => sign(null, message, privateKey) };
}

/** The verifier key that checks a signer's signatures. */
export function verifierKeyOf(name: string, key: KeyObject): NoteVerifierKey {
  if (!isValidKeyName(name)) throw new CheckpointError('MALFORMED_KEY', `invalid key name ${JSON.stringify(name)}`);
  const publicKey = rawEd25519PublicKey(key);
  return { name, keyId: noteKeyId(name, publicKey), publicKey };
}

/** `<name>+<8 hex digits key ID>+<base64(0x01 || public key)>`, the `note` package's verifier key text. */
export function encodeVerifierKey(key: NoteVerifierKey): string {
  const id = key.keyId.toString(16).padStart(8, '0');
  return `${key.name}+${id}+${Buffer.concat([Buffer.from([SIGNATURE_TYPE_ED25519]), key.publicKey]).toString('base64')}`;
}

/** Parses a verifier key text; refuses unknown algorithms, wrong lengths and a key ID that does not match. */
export function parseVerifierKey(text: string): NoteVerifierKey {
  // Names hold no '+', base64 may: the first two '+' separate the three parts.
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = trimmed.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new CheckpointError('MALFORMED_KEY', 'a verifier key is <name>+<key id>+<base64 key>');
  const [name, idHex, keyB64] = [trimmed.slice(0, first), trimmed.slice(first + 1, second), trimmed.slice(second + 1)];
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || !BASE64.test(keyB64)) {
    throw new CheckpointError('MALFORMED_KEY', 'a verifier key is <name>+<8 hex digits>+<base64 key>');
  }
  const raw = Buffer.from(keyB64, 'base64');
  if (raw.length !== 33 || raw[0] !== SIGNATURE_TYPE_ED25519) throw new CheckpointError('MALFORMED_KEY', 'only Ed25519 verifier keys (type 0x01, 32 bytes) are supported');
  const publicKey = raw.subarray(1);
  const keyId = Number.parseInt(idHex, 16);
  if (noteKeyId(name, publicKey) !== keyId) throw new CheckpointError('MALFORMED_KEY', `key ID ${idHex} does not match the key of ${name}`);
  return { name, keyId, publicKey: Buffer.from(publicKey) };
}

/** Signs note text (which must end in a newline) with each signer: the signed-note format. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertNoteText(text);
  if (signers.length === 0) throw new CheckpointError('MALFORMED_NOTE', 'a signed note needs at least one signer');
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((signer) => {
    if (!isValidKeyName(signer.name)) throw new CheckpointError('MALFORMED_KEY', `invalid key name ${JSON.stringify(signer.name)}`);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId >>> 0);
    return `— ${signer.name} ${Buffer.concat([id, signer.sign(message)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** A note whose text was checked against at least one trusted key. */
export interface OpenedNote {
  readonly text: string;
  /** The trusted keys whose signatures verified. */
  readonly verifiedBy: readonly NoteVerifierKey[];
}

/**
 * Verifies a signed note against trusted keys (signed-note §Signatures): signatures from unknown
 * keys are ignored; a signature from a known key that does not verify rejects the whole note; at
 * least one known key must have signed.
 */
export function openNote(note: string, keys: readonly NoteVerifierKey[]): OpenedNote {
  if (hasControlCharacters(note.replaceAll('\n', ''))) throw new CheckpointError('MALFORMED_NOTE', 'a note holds no control characters other than newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointError('MALFORMED_NOTE', 'a signed note is text, a blank line and signature lines');
  const text = note.slice(0, split + 1);
  const signatureLines = note.slice(split + 2, -1).split('\n');
  if (signatureLines.length > MAX_SIGNATURES) throw new CheckpointError('MALFORMED_NOTE', `more than ${MAX_SIGNATURES} signatures`);
  const message = Buffer.from(text, 'utf8');
  const verifiedBy: NoteVerifierKey[] = [];
  for (const line of signatureLines) {
    const match = /^— (\S+) (\S+)$/u.exec(line);
    const name = match?.[1];
    const b64 = match?.[2];
    if (name === undefined || b64 === undefined || !isValidKeyName(name) || !BASE64.test(b64)) {
      throw new CheckpointError('MALFORMED_NOTE', 'a signature line is "— <key name> <base64 signature>"');
    }
    const raw = Buffer.from(b64, 'base64');
    if (raw.length < 5) throw new CheckpointError('MALFORMED_NOTE', 'a signature holds a key ID and signature bytes');
    const keyId = raw.readUInt32BE(0);
    const known = keys.filter((k) => k.name === name && k.keyId === keyId);
    if (known.length === 0) continue;
    if (known.length > 1 && !known.every((k) => k.publicKey.equals((known[0] as NoteVerifierKey).publicKey))) {
      throw new CheckpointError('AMBIGUOUS_KEY', `two different trusted keys share ${name}+${keyId.toString(16).padStart(8, '0')}`);
    }
    const key = known[0] as NoteVerifierKey;
    const signature = raw.subarray(4);
    if (signature.length !== 64 || !verify(null, message, ed25519PublicKeyObject(key.publicKey), signature)) {
      throw new CheckpointError('INVALID_SIGNATURE', `invalid signature for key ${encodeKeyHandle(key)}`);
    }
    if (!verifiedBy.includes(key)) verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) throw new CheckpointError('UNVERIFIED_NOTE', 'no signature by a trusted key');
  return { text, verifiedBy };
}

/** The checkpoint's note text (tlog-checkpoint body). */
export function checkpointText(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, timestamp } = checkpoint;
  if (origin === '' || origin.includes('\n') || hasControlCharacters(origin)) throw new CheckpointError('MALFORMED_CHECKPOINT', 'the origin is one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw new CheckpointError('MALFORMED_CHECKPOINT', 'the tree size is a non-negative integer');
  if (!isHash(rootHash)) throw new CheckpointError('MALFORMED_CHECKPOINT', `the root hash is ${HASH_SIZE} bytes`);
  if (Number.isNaN(timestamp.getTime())) throw new CheckpointError('MALFORMED_CHECKPOINT', 'the timestamp is not a valid date');
  return `${origin}\n${size}\n${Buffer.from(rootHash).toString('base64')}\n${TIMESTAMP_PREFIX}${timestamp.toISOString()}\n`;
}

/** Parses checkpoint note text (already verified): exact decimal size, 32-byte root, our timestamp line. */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('MALFORMED_CHECKPOINT', 'checkpoint text ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === undefined || origin === '' || sizeText === undefined || rootText === undefined) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', 'a checkpoint has an origin, a tree size and a root hash line');
  }
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', 'the tree size is decimal without leading zeroes');
  }
  if (!BASE64.test(rootText) || rootText.length !== 44) throw new CheckpointError('MALFORMED_CHECKPOINT', 'the root hash is base64 of 32 bytes');
  if (extensions.some((line) => line === '')) throw new CheckpointError('MALFORMED_CHECKPOINT', 'extension lines are non-empty');
  const stamps = extensions.filter((line) => line.startsWith(TIMESTAMP_PREFIX));
  const stamp = stamps[0]?.slice(TIMESTAMP_PREFIX.length);
  if (stamps.length !== 1 || stamp === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(stamp) || Number.isNaN(Date.parse(stamp))) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', 'a FitLedger checkpoint has one "timestamp <ISO 8601 UTC>" extension line');
  }
  return { origin, size: Number(sizeText), rootHash: Buffer.from(rootText, 'base64'), timestamp: new Date(stamp) };
}

/** Signs a checkpoint; the signer's key name should be the origin (tlog-checkpoint §Signatures). */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(checkpointText(checkpoint), [signer]);
}

/** A checkpoint that verified, with the key that signed it. */
export interface VerifiedCheckpoint extends Checkpoint {
  readonly signedBy: NoteVerifierKey;
  /** The signed note as given. */
  readonly note: string;
}

/**
 * Verifies a signed checkpoint against trusted keys and parses it. The signature must come from a
 * key named like the origin: a key trusted for another log must not vouch for this one.
 */
export function verifyCheckpoint(note: string, keys: readonly NoteVerifierKey[], expectedOrigin?: string): VerifiedCheckpoint {
  const opened = openNote(note, keys);
  const checkpoint = parseCheckpointText(opened.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new CheckpointError('ORIGIN_MISMATCH', `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(expectedOrigin)}`);
  }
  const signedBy = opened.verifiedBy.find((key) => key.name === checkpoint.origin);
  if (signedBy === undefined) throw new CheckpointError('UNVERIFIED_NOTE', `no trusted key named ${JSON.stringify(checkpoint.origin)} signed the checkpoint`);
  return { ...checkpoint, signedBy, note };
}

function ed25519PublicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function encodeKeyHandle(key: NoteVerifierKey): string {
  return `${key.name}+${key.keyId.toString(16).padStart(8, '0')}`;
}

function assertNoteText(text: string): void {
  if (text === '' || !text.endsWith('\n')) throw new CheckpointError('MALFORMED_NOTE', 'note text is non-empty and ends in a newline');
  if (hasControlCharacters(text.replaceAll('\n', ''))) throw new CheckpointError('MALFORMED_NOTE', 'note text holds no control characters other than newline');
}

function hasControlCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f]/.test(text);
}
