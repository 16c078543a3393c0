/**
 * Which log fields carry PHI or secrets, and how to censor them.
 *
 * Two layers, because either alone leaks:
 * - `PHI_LOG_PATHS` feeds pino's path redaction. It runs on the serialized output (so it also covers
 *   what serializers emit), but a pino path wildcard matches exactly one level: `*.email` misses
 *   `req.body.email` and `sets[0].reps`.
 * - `censorPhiFields` walks plain objects and arrays at any depth and censors every key whose name
 *   is in `PHI_FIELD_NAMES` (case, `_` and `-` ignored: `birth_date` = `birthDate`).
 */

export const REDACTED = '[REDACTED]';

/**
 * Field names that hold health data, identifiers or credentials anywhere in a log object.
 * Extend per service with `createLogger({ extraPhiFields })`; never remove entries.
 * Keep non-PHI log fields specific (`projection`, `eventType`) rather than generic (`name`, `data`),
 * since a generic key is censored wherever it appears.
 */
export const PHI_FIELD_NAMES: readonly string[] = Object.freeze([
  // credentials
  'authorization', 'cookie', 'password', 'token', 'accessToken', 'refreshToken', 'idToken',
  'clientSecret', 'secret',
  // direct identifiers
  'email', 'name', 'givenName', 'familyName', 'phone', 'address', 'birthDate', 'dateOfBirth',
  // health data and its carriers (event `data` is PHI even when encrypted: keep ciphertext out too)
  'notes', 'data', 'phi', 'samples', 'reps', 'loadKg', 'weightKg', 'heightCm', 'heartRateBpm',
  'sex', 'height', 'heightM', 'weight', 'measurement', 'note', 'systolicMmHg', 'diastolicMmHg', 'bodyFatPercent',
  'measuredAt', 'timeZone', 'locale',
  // a date or place tied to a person is an identifier
  'occurredAt', 'location', 'lat', 'lon',
]);

/** Pino redact paths for the given field names: the key at the top level and one or two levels down. */
export function phiPathsFor(fieldNames: readonly string[]): string[] {
  return fieldNames.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

/**
 * Pino redact paths applied by `createLogger` (censor `[REDACTED]`). Services extend it with
 * `createLogger({ extraRedactPaths })`, e.g. `['*.consentText']`.
 */
export const PHI_LOG_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  // PostgreSQL puts row values into DETAIL ("Key (email)=(…) already exists").
  'err.detail',
  'err.where',
  ...phiPathsFor(PHI_FIELD_NAMES),
]);

/** Normalise a key so `birth_date`, `Birth-Date` and `birthDate` compare equal. */
export function normaliseFieldName(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

export function phiFieldSet(fieldNames: readonly string[]): ReadonlySet<string> {
  return new Set(fieldNames.map(normaliseFieldName));
}

// Deeper than this we do not look; fail closed and censor the whole subtree.
const MAX_DEPTH = 8;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Copy of `value` with every field named in `fields` (a `phiFieldSet`) replaced by `[REDACTED]`,
 * at any depth of plain objects and arrays. Class instances (a fastify request, an Error) are left
 * to serializers. Returns `value` itself when nothing had to change.
 */
export function censorPhiFields(value: unknown, fields: ReadonlySet<string>, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return REDACTED;
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const censored = censorPhiFields(item, fields, depth + 1);
      if (censored !== item) {
        copy ??= value.slice();
        copy[i] = censored;
      }
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const censored = fields.has(normaliseFieldName(key)) ? REDACTED : censorPhiFields(item, fields, depth + 1);
    if (censored !== item) {
      copy ??= { ...value };
      copy[key] = censored;
    }
  }
  return copy ?? value;
}
