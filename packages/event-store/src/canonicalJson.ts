import { createHash } from 'node:crypto';
import type { JsonValue } from './eventStore';

/** JSON with object keys sorted recursively, so equal values serialise to equal strings. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** Default content digest of an event: SHA-256 over type, schema version and canonical data. */
export function defaultContentDigest(type: string, schemaVersion: number, data: JsonValue): string {
  return createHash('sha256').update(`${type}\u0000${schemaVersion}\u0000${canonicalJson(data)}`).digest('base64url');
}
