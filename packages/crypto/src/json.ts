import { InvalidCipherInputError } from './errors';

/** JSON values as stored in event `data` (structurally the same as the event store's `JsonValue`). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Canonical JSON: object keys sorted by UTF-16 code units at every level, no whitespace, numbers
 * and strings as `JSON.stringify` writes them — the serialisation of RFC 8785 (JCS) for JSON
 * values. Refuses values JSON cannot round-trip (NaN, Infinity, undefined, functions...).
 */
export function canonicalJson(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidCipherInputError('non-finite numbers are not JSON');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw new InvalidCipherInputError('only plain objects are JSON objects');
      }
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
    }
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new InvalidCipherInputError(`a ${typeof value} is not a JSON value`);
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
