import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  checkpointText,
  ed25519NoteSigner,
  encodeVerifierKey,
  openNote,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifierKeyOf,
  verifyCheckpoint,
  type Checkpoint,
  type NoteVerifierKey,
} from './checkpoint';
import { leafHash } from './merkle';

// Known-answer vectors of Go's golang.org/x/mod/sumdb/note (note_test.go): keys, text and
// signatures produced by another implementation, so signer and verifier here cannot agree on a
// shared mistake.
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_SKEY_SEED = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || 32-byte Ed25519 seed
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const GO_ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const GO_ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

function ed25519FromSeed(seed: Buffer): KeyObject {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

const ORIGIN = 'fitledger.test/audit';

function newKey(name = ORIGIN): { key: KeyObject; verifier: NoteVerifierKey } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { key: privateKey, verifier: verifierKeyOf(name, privateKey) };
}

const HEAD: Checkpoint = { origin: ORIGIN, size: 1234, rootHash: leafHash(Buffer.from('root')), timestamp: new Date('2024-07-01T12:00:00.000Z') };

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CheckpointError) return error.code;
    throw error;
  }
  return undefined;
}

describe('signed notes (C2SP signed-note)', () => {
  it('reproduce the signature Go\'s note package makes, byte for byte', () => {
    const seed = Buffer.from(GO_SKEY_SEED, 'base64');
    expect(seed[0]).toBe(0x01);
    const signer = ed25519NoteSigner('PeterNeumann', ed25519FromSeed(seed.subarray(1)));
    expect(signer.keyId.toString(16)).toBe('c74f20a3');
    expect(signNote(GO_TEXT, [signer])).toBe(`${GO_TEXT}\n${GO_SIG}`);
    expect(encodeVerifierKey(verifierKeyOf('PeterNeumann', ed25519FromSeed(seed.subarray(1))))).toBe(GO_VKEY);
  });

  it('open Go-signed notes, ignoring signatures by keys not trusted', () => {
    const peter = parseVerifierKey(GO_VKEY);
    const enoch = parseVerifierKey(GO_ENOCH_VKEY);
    const note = `${GO_TEXT}\n${GO_SIG}${GO_ENOCH_SIG}`;
    expect(openNote(note, [peter]).verifiedBy).toEqual([peter]);
    expect(openNote(note, [peter, enoch]).verifiedBy).toEqual([peter, enoch]);
    expect(openNote(note, [peter]).text).toBe(GO_TEXT);
    expect(errorCode(() => openNote(note, []))).toBe('UNVERIFIED_NOTE');
  });

  it('reject a note when a trusted key\'s signature does not verify', () => {
    const peter = parseVerifierKey(GO_VKEY);
    const corrupted = `${GO_TEXT}\n${GO_SIG.slice(0, 60)}ABCD${GO_SIG.slice(60)}`;
    expect(errorCode(() => openNote(corrupted, [peter]))).toBe('INVALID_SIGNATURE');
    expect(errorCode(() => openNote(`${GO_TEXT.replace('answer', 'Answer')}\n${GO_SIG}`, [peter]))).toBe('INVALID_SIGNATURE');
  });

  it('reject malformed notes', () => {
    const peter = parseVerifierKey(GO_VKEY);
    for (const bad of [GO_TEXT, `${GO_TEXT}\n`, `${GO_TEXT}\n${GO_SIG.slice(0, -1)}`, `\u0001${GO_TEXT}\n${GO_SIG}`, `${GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`, `${GO_TEXT}\n${GO_SIG}Unexpected line.\n`, `${GO_TEXT}\n${GO_SIG.repeat(101)}`]) {
      expect(errorCode(() => openNote(bad, [peter])), JSON.stringify(bad.slice(-30))).toBe('MALFORMED_NOTE');
    }
  });

  it('round-trip verifier keys whose base64 holds "+"', () => {
    let found = 0;
    for (let i = 0; i < 200 && found < 3; i += 1) {
      const key = newKey().verifier;
      const text = encodeVerifierKey(key);
      if (!text.slice(text.indexOf('+', text.indexOf('+') + 1) + 1).includes('+')) continue;
      found += 1;
      expect(parseVerifierKey(text)).toEqual(key);
    }
    expect(found).toBe(3);
  });

  it('parse verifier keys only when the key ID matches the name and key', () => {
    expect(encodeVerifierKey(parseVerifierKey(GO_VKEY))).toBe(GO_VKEY);
    for (const bad of [GO_VKEY.replace('c74f20a3', 'c74f20a4'), GO_VKEY.replace('PeterNeumann', 'PeterNeuman'), GO_VKEY.replace('+ARpc', '+AZpc'), `${GO_VKEY}+x`, 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW']) {
      expect(errorCode(() => parseVerifierKey(bad)), bad).toBe('MALFORMED_KEY');
    }
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  it('have the origin, size, base64 root and a timestamp extension line as note text', () => {
    const root = Buffer.from(HEAD.rootHash).toString('base64');
    expect(checkpointText(HEAD)).toBe(`${ORIGIN}\n1234\n${root}\ntimestamp 2024-07-01T12:00:00.000Z\n`);
  });

  it('round-trip: a signed checkpoint verifies and reads back the same head', () => {
    const { key, verifier } = newKey();
    const note = signCheckpoint(HEAD, ed25519NoteSigner(ORIGIN, key));
    const verified = verifyCheckpoint(note, [verifier], ORIGIN);
    expect(verified.origin).toBe(ORIGIN);
    expect(verified.size).toBe(1234);
    expect(Buffer.from(verified.rootHash).equals(Buffer.from(HEAD.rootHash))).toBe(true);
    expect(verified.timestamp.toISOString()).toBe('2024-07-01T12:00:00.000Z');
    expect(verified.signedBy).toBe(verifier);
  });

  it('rejects a checkpoint whose size, root, origin, timestamp or signature was changed', () => {
    const { key, verifier } = newKey();
    const note = signCheckpoint(HEAD, ed25519NoteSigner(ORIGIN, key));
    const root = Buffer.from(HEAD.rootHash).toString('base64');
    const otherRoot = Buffer.from(leafHash(Buffer.from('other'))).toString('base64');
    const [text, signature] = [note.slice(0, note.lastIndexOf('\n\n') + 1), note.slice(note.lastIndexOf('\n\n') + 1)];
    const tampered = [
      note.replace('\n1234\n', '\n1235\n'),
      note.replace(root, otherRoot),
      note.replace('12:00:00.000Z', '12:00:01.000Z'),
      `${text.replace(ORIGIN, 'fitledger.test/audit2')}${signature}`,
    ];
    for (const t of tampered) expect(errorCode(() => verifyCheckpoint(t, [verifier]))).toBe('INVALID_SIGNATURE');
    const sigStart = note.lastIndexOf(' ') + 1;
    const sig = Buffer.from(note.slice(sigStart, -1), 'base64');
    sig[10] = (sig[10] as number) ^ 0x01;
    expect(errorCode(() => verifyCheckpoint(`${note.slice(0, sigStart)}${sig.toString('base64')}\n`, [verifier]))).toBe('INVALID_SIGNATURE');
  });

  it('rejects a checkpoint signed by an unknown key, or by a trusted key of another name', () => {
    const { key } = newKey();
    const stranger = newKey();
    const note = signCheckpoint(HEAD, ed25519NoteSigner(ORIGIN, key));
    expect(errorCode(() => verifyCheckpoint(note, [stranger.verifier]))).toBe('UNVERIFIED_NOTE');
    const otherLog = newKey('other.test/log');
    const signedByOther = signCheckpoint(HEAD, ed25519NoteSigner('other.test/log', otherLog.key));
    expect(errorCode(() => verifyCheckpoint(signedByOther, [otherLog.verifier]))).toBe('UNVERIFIED_NOTE');
    expect(errorCode(() => verifyCheckpoint(note, [verifierKeyOf(ORIGIN, key)], 'fitledger.test/elsewhere'))).toBe('ORIGIN_MISMATCH');
  });

  it('keeps old checkpoints verifiable after a key rotation when the retired key stays published', () => {
    const before = newKey();
    const after = newKey();
    const oldNote = signCheckpoint(HEAD, ed25519NoteSigner(ORIGIN, before.key));
    const newNote = signCheckpoint({ ...HEAD, size: 2000, timestamp: new Date('2024-08-01T00:00:00.000Z') }, ed25519NoteSigner(ORIGIN, after.key));
    const published = [before.verifier, after.verifier];
    expect(verifyCheckpoint(oldNote, published).signedBy).toBe(before.verifier);
    expect(verifyCheckpoint(newNote, published).signedBy).toBe(after.verifier);
    // Same name, different key ID: only the published set tells which keys count.
    expect(before.verifier.keyId).not.toBe(after.verifier.keyId);
    expect(errorCode(() => verifyCheckpoint(oldNote, [after.verifier]))).toBe('UNVERIFIED_NOTE');
  });

  it('refuses malformed checkpoint text even under a valid signature', () => {
    const { key, verifier } = newKey();
    const signer = ed25519NoteSigner(ORIGIN, key);
    const root = Buffer.from(HEAD.rootHash).toString('base64');
    for (const text of [`${ORIGIN}\n01234\n${root}\ntimestamp 2024-07-01T12:00:00.000Z\n`, `${ORIGIN}\n1234\n${root.slice(4)}\ntimestamp 2024-07-01T12:00:00.000Z\n`, `${ORIGIN}\n1234\n${root}\n`, `${ORIGIN}\n-1\n${root}\ntimestamp 2024-07-01T12:00:00.000Z\n`]) {
      expect(errorCode(() => verifyCheckpoint(signNote(text, [signer]), [verifier])), text).toBe('MALFORMED_CHECKPOINT');
    }
  });
});
