import { createHmac } from 'node:crypto';
import { CiphertextTamperedError, InvalidCipherInputError, PhiFieldCollisionError } from './errors';
import { decryptJson, encryptJson } from './fieldCipher';
import { canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './json';
import { deriveSubkey } from './keyDerivation';
import type { DataKey, KeyStore } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';

/** The field of sealed event data that holds the one ciphertext of all PHI fields. */
export const PHI_FIELD = 'phi';
export const CONTENT_DIGEST_INFO = 'fitledger/content-digest/v1';
const PHI_AAD_LABEL = 'fitledger/phi/v1';

export interface SealedData {
  /** Plain fields as given, plus `phi`: one token holding every other field. */
  readonly data: JsonObject;
  /** Keyed digest of the plaintext event: the same for a retried command, unlinkable after erasure. */
  readonly contentDigest: string;
}

/**
 * Seals event data for the event store: every field not named plain is encrypted with the subject's
 * data key into one token at `data.phi`, bound to (subject, event type, schema version).
 */
export class PhiCodec {
  constructor(private readonly keys: KeyStore) {}

  async seal(
    subjectId: string,
    eventType: string,
    schemaVersion: number,
    data: JsonObject,
    plainFields: readonly string[],
  ): Promise<SealedData> {
    if (plainFields.includes(PHI_FIELD)) throw new PhiFieldCollisionError(PHI_FIELD);
    assertSchemaVersion(schemaVersion);
    // Validates the whole payload as JSON before anything is encrypted.
    const digestInput = digestPayload(eventType, schemaVersion, data);
    const plain = new Set(plainFields);
    const entries = Object.entries(data);
    // Object.fromEntries defines own properties, so a field named "__proto__" stays a field.
    const secret: JsonObject = Object.fromEntries(entries.filter(([field]) => !plain.has(field)));
    const dataKey = await this.keys.getOrCreate(subjectId);
    const token = encryptJson(secret, dataKey, phiAad(subjectId, eventType, schemaVersion));
    const sealed: JsonObject = Object.fromEntries([...entries.filter(([field]) => plain.has(field)), [PHI_FIELD, token]]);
    return { data: sealed, contentDigest: digestWith(dataKey, digestInput) };
  }

  /** Reverses `seal`. Throws SubjectKeyDestroyedError once the subject was erased. */
  async open(subjectId: string, eventType: string, schemaVersion: number, sealed: JsonObject): Promise<JsonObject> {
    assertSchemaVersion(schemaVersion);
    const token = sealed[PHI_FIELD];
    if (typeof token !== 'string') throw new CiphertextTamperedError(`sealed data has no "${PHI_FIELD}" token`);
    const dataKey = await this.keys.get(subjectId);
    const secret = decryptJson(token, dataKey, phiAad(subjectId, eventType, schemaVersion));
    if (!isJsonObject(secret)) throw new CiphertextTamperedError('sealed payload is not an object');
    // The fields in the clear, then the decrypted ones (one pass each: this runs for every event read).
    const opened: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(sealed)) if (field !== PHI_FIELD) defineField(opened, field, value);
    for (const [field, value] of Object.entries(secret)) {
      // Seal never puts a field both in the clear and in the ciphertext.
      if (Object.hasOwn(opened, field)) throw new CiphertextTamperedError('sealed data repeats an encrypted field in the clear');
      defineField(opened, field, value);
    }
    return opened;
  }
}

/**
 * base64url HMAC-SHA256 of canonical JSON {type, schemaVersion, data} under an HKDF subkey of the
 * subject's data key. Exposed for callers that need the digest of already-open data.
 */
export function contentDigest(dataKey: DataKey, eventType: string, schemaVersion: number, data: JsonObject): string {
  assertSchemaVersion(schemaVersion);
  return digestWith(dataKey, digestPayload(eventType, schemaVersion, data));
}

function digestPayload(eventType: string, schemaVersion: number, data: JsonObject): string {
  return canonicalJson({ type: eventType, schemaVersion, data });
}

function digestWith(dataKey: DataKey, payload: string): string {
  return createHmac('sha256', deriveSubkey(dataKey, CONTENT_DIGEST_INFO)).update(payload, 'utf8').digest('base64url');
}

/** Sets an own field; `__proto__` too (an assignment would change the prototype instead). */
function defineField(target: Record<string, JsonValue>, field: string, value: JsonValue): void {
  if (field === '__proto__') Object.defineProperty(target, field, { value, enumerable: true, writable: true, configurable: true });
  else target[field] = value;
}

/** Recent AADs: a replay decrypts many events of the same subject, type and version in a row. */
const recentAads = new Map<string, Buffer>();
const RECENT_AADS = 1_024;

function phiAad(subjectId: string, eventType: string, schemaVersion: number): Buffer {
  const key = `${subjectId}\u0000${eventType}\u0000${schemaVersion}`;
  let aad = recentAads.get(key);
  if (aad === undefined) {
    if (recentAads.size >= RECENT_AADS) recentAads.clear();
    aad = lengthPrefixed([PHI_AAD_LABEL, subjectId, eventType, String(schemaVersion)]);
    recentAads.set(key, aad);
  }
  return aad;
}

function assertSchemaVersion(schemaVersion: number): void {
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 0) {
    throw new InvalidCipherInputError('schemaVersion must be a non-negative integer');
  }
}
