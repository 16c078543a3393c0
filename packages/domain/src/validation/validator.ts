/**
 * Small hand-written validator combinators. Each validator checks an unknown value and reports
 * every problem with the dotted path of the offending field (`plannedSets[2].loadKg`), so the same
 * definitions serve the event registry (data read from the store) and the deciders (data about to
 * be written).
 */

export type IssueCode =
  | 'required'
  | 'type'
  | 'format'
  | 'range'
  | 'too_long'
  | 'too_short'
  | 'too_many'
  | 'unknown_field'
  | 'inconsistent';

export interface ValidationIssue {
  /** Dotted path of the field, e.g. `loadKg`, `location.lat`, `plannedSets[0].reps`. */
  readonly field: string;
  readonly code: IssueCode;
  readonly message: string;
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

export interface Validator<T> {
  check(value: unknown, path?: string): ValidationResult<T>;
}

export interface OptionalValidator<T> extends Validator<T | undefined> {
  readonly optional: true;
}

export interface ObjectValidator<T> extends Validator<T> {
  /** The object's declared keys, in declaration order. */
  readonly keys: readonly string[];
}

type Infer<V> = V extends Validator<infer T> ? T : never;
type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalValidator<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Prettify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Prettify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

const ok = <T>(value: T): ValidationResult<T> => ({ ok: true, value });
const fail = <T>(field: string, code: IssueCode, message: string): ValidationResult<T> => ({
  ok: false,
  issues: [{ field, code, message }],
});
const label = (path: string | undefined): string => (path === undefined || path === '' ? '(root)' : path);

/** Code points, not UTF-16 units: a limit of 2,000 characters means 2,000 characters to the user. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function string(options: { min?: number; max: number; pattern?: RegExp; patternName?: string }): Validator<string> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'string') return fail(field, 'type', `${field} must be a string`);
      const length = characterCount(value);
      if (length < (options.min ?? 0)) return fail(field, 'too_short', `${field} must have at least ${options.min ?? 0} characters`);
      if (length > options.max) return fail(field, 'too_long', `${field} must have at most ${options.max} characters`);
      if (options.pattern && !options.pattern.test(value)) {
        return fail(field, 'format', `${field} must be ${options.patternName ?? `of the form ${String(options.pattern)}`}`);
      }
      return ok(value);
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An opaque id: a lowercase RFC 9562 UUID. Ids travel in clear, so free text is never accepted as one. */
export function uuid(): Validator<string> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'string') return fail(field, 'type', `${field} must be a string`);
      return UUID.test(value) ? ok(value) : fail(field, 'format', `${field} must be a lowercase UUID`);
    },
  };
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/** An instant as ISO 8601 UTC (`2025-01-31T07:15:00.000Z`), the form `Date#toISOString` writes. */
export function isoDateTime(): Validator<string> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'string') return fail(field, 'type', `${field} must be an ISO 8601 UTC date-time string`);
      if (!ISO_UTC.test(value) || Number.isNaN(Date.parse(value))) {
        return fail(field, 'format', `${field} must be an ISO 8601 UTC date-time like 2025-01-31T07:15:00.000Z`);
      }
      // Reject calendar overflow (2025-02-30) that Date.parse silently rolls over.
      if (new Date(value).toISOString().slice(0, 19) !== value.slice(0, 19)) {
        return fail(field, 'format', `${field} is not a valid calendar date-time`);
      }
      return ok(value);
    },
  };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date `YYYY-MM-DD` that exists (no 2026-02-30): a local date, no time zone. */
export function isoDate(): Validator<string> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
        return fail(field, 'format', `${field} must be a date like 2026-03-02`);
      }
      return ok(value);
    },
  };
}

export function number(options: { min?: number; max?: number; integer?: boolean; step?: number; unit?: string } = {}): Validator<number> {
  const unit = options.unit === undefined ? '' : ` ${options.unit}`;
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(field, 'type', `${field} must be a finite number`);
      if (options.integer && !Number.isInteger(value)) return fail(field, 'type', `${field} must be a whole number`);
      if (options.step !== undefined && !Number.isInteger(value / options.step)) {
        return fail(field, 'format', `${field} must be a multiple of ${options.step}`);
      }
      if ((options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) {
        const range =
          options.min !== undefined && options.max !== undefined
            ? `between ${options.min} and ${options.max}${unit}`
            : options.min !== undefined
              ? `at least ${options.min}${unit}`
              : `at most ${String(options.max)}${unit}`;
        return fail(field, 'range', `${field} must be ${range}`);
      }
      return ok(value);
    },
  };
}

export function boolean(): Validator<boolean> {
  return {
    check(value, path = '') {
      const field = label(path);
      return typeof value === 'boolean' ? ok(value) : fail(field, 'type', `${field} must be true or false`);
    },
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Validator<T[number]> {
  return {
    check(value, path = '') {
      const field = label(path);
      return typeof value === 'string' && values.includes(value)
        ? ok(value as T[number])
        : fail(field, 'format', `${field} must be one of ${values.join(', ')}`);
    },
  };
}

/** The first alternative that accepts the value wins; the issues of the last one are reported. */
export function anyOf<A, B>(a: Validator<A>, b: Validator<B>): Validator<A | B> {
  return {
    check(value, path = '') {
      const first = a.check(value, path);
      return first.ok ? first : b.check(value, path);
    },
  };
}

export function optional<T>(inner: Validator<T>): OptionalValidator<T> {
  return {
    optional: true,
    check(value, path = '') {
      return value === undefined ? ok(undefined) : inner.check(value, path);
    },
  };
}

export function array<T>(item: Validator<T>, options: { max: number }): Validator<T[]> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (!Array.isArray(value)) return fail(field, 'type', `${field} must be an array`);
      if (value.length > options.max) return fail(field, 'too_many', `${field} must have at most ${options.max} items`);
      const issues: ValidationIssue[] = [];
      const out: T[] = [];
      value.forEach((element, i) => {
        const result = item.check(element, `${path}[${i}]`);
        if (result.ok) out.push(result.value);
        else issues.push(...result.issues);
      });
      return issues.length > 0 ? { ok: false, issues } : ok(out);
    },
  };
}

/** A string-keyed map with a bounded number of keys, each key matching `keyPattern`. */
export function record<T>(valueValidator: Validator<T>, options: { maxKeys: number; keyPattern: RegExp; keyPatternName: string }): Validator<Record<string, T>> {
  return {
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field, 'type', `${field} must be an object`);
      const entries = Object.entries(value);
      if (entries.length > options.maxKeys) return fail(field, 'too_many', `${field} must have at most ${options.maxKeys} entries`);
      const issues: ValidationIssue[] = [];
      const out: Record<string, T> = {};
      for (const [key, item] of entries) {
        const itemPath = `${field}.${key}`;
        if (!options.keyPattern.test(key)) {
          issues.push({ field: itemPath, code: 'format', message: `${field} keys must be ${options.keyPatternName}` });
          continue;
        }
        const result = valueValidator.check(item, itemPath);
        if (result.ok) out[key] = result.value;
        else issues.push(...result.issues);
      }
      return issues.length > 0 ? { ok: false, issues } : ok(out);
    },
  };
}

/**
 * A plain object with exactly the declared keys: unknown keys are rejected, so nothing undeclared
 * (and therefore unclassified as plain or encrypted) can slip into an event. `refine` adds
 * cross-field rules (fields and messages relative to this object); it runs only when every field
 * is valid.
 */
export function object<S extends Shape>(
  shape: S,
  refine?: (value: ObjectOf<S>) => readonly ValidationIssue[],
): ObjectValidator<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return {
    keys,
    check(value, path = '') {
      const field = label(path);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field, 'type', `${field} must be an object`);
      const input = value as Record<string, unknown>;
      const prefix = path === '' ? '' : `${path}.`;
      const issues: ValidationIssue[] = [];
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) issues.push({ field: `${prefix}${key}`, code: 'unknown_field', message: `${prefix}${key} is not a known field` });
      }
      for (const key of keys) {
        const validator = shape[key] as Validator<unknown>;
        const present = Object.hasOwn(input, key) && input[key] !== undefined;
        if (!present && !('optional' in validator)) {
          issues.push({ field: `${prefix}${key}`, code: 'required', message: `${prefix}${key} is required` });
          continue;
        }
        const result = validator.check(input[key], `${prefix}${key}`);
        if (!result.ok) issues.push(...result.issues);
        else if (result.value !== undefined) out[key] = result.value;
      }
      if (issues.length > 0) return { ok: false, issues };
      const checked = out as ObjectOf<S>;
      const extra = refine?.(checked) ?? [];
      if (extra.length > 0) {
        return {
          ok: false,
          // refine reports fields relative to this object
          issues: extra.map((issue) => ({ ...issue, field: `${prefix}${issue.field}`, message: `${prefix}${issue.message}` })),
        };
      }
      return ok(checked);
    },
  };
}
