import { AuthenticationError } from '@fitledger/auth';
import { SubjectKeyDestroyedError } from '@fitledger/crypto';
import { DomainError, type DomainErrorCode } from '@fitledger/domain';
import { IdempotencyConflictError, InvalidAppendError, StreamDeletedError, WrongExpectedRevisionError } from '@fitledger/event-store';
import { HttpProblem, type ErrorMapper } from '@fitledger/http';

/**
 * Every problem the command service answers besides framework validation. Details name rules and
 * fields, never values: request bodies are health data and must not come back in logs or errors.
 */

/** Where a domain field (`plannedSets[2].loadKg`) was in the request (`/body/plannedSets/2/load`). */
export type FieldLocator = (domainField: string) => string;

/** Canonical values the decider derives are reported at the entered value they came from. */
const ENTERED_FIELD: Readonly<Record<string, string>> = { loadKg: 'load', distanceM: 'distance' };

/** Splits a dotted domain path (`plannedSets[2].loadKg`, `location.lat`) into pointer segments. */
export function domainFieldSegments(field: string): string[] {
  return field
    .split('.')
    .flatMap((part) => part.split(/\[(\d+)\]/).filter((s) => s !== ''))
    .map((segment) => ENTERED_FIELD[segment] ?? segment);
}

/** A locator: fields named in `at` go where it says, set fields under `setFieldsUnder`, the rest under /body. */
export function fieldLocator(options: { readonly at?: Readonly<Record<string, string>>; readonly setFieldsUnder?: string } = {}): FieldLocator {
  return (field) => {
    const segments = domainFieldSegments(field);
    const [first = ''] = segments;
    const rest = segments.slice(1).map((s) => `/${escapePointer(s)}`).join('');
    const placed = options.at?.[first];
    if (placed !== undefined) return `${placed}${rest}`;
    if (options.setFieldsUnder !== undefined && SET_FIELDS.has(first)) return `${options.setFieldsUnder}/${escapePointer(first)}${rest}`;
    return `/body/${escapePointer(first)}${rest}`;
  };
}

const SET_FIELDS = new Set([
  'exerciseId', 'reps', 'load', 'durationS', 'distance', 'rpe', 'heartRateBpm', 'warmUp', 'toFailure', 'supersetGroup', 'restBeforeS', 'notes', 'customFields',
]);

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

const NOT_FOUND_CODES: ReadonlySet<DomainErrorCode> = new Set(['WORKOUT_NOT_FOUND', 'SOURCE_WORKOUT_NOT_FOUND']);

/** The one answer for a workout that does not exist or is not the caller's: identical, so existence does not leak. */
export function workoutNotFound(): HttpProblem {
  return new HttpProblem(404, 'WORKOUT_NOT_FOUND', 'Not Found', 'no such workout');
}

/** DomainError → 422 (404 for "not found" codes) with the fields located in the request. */
export function domainProblem(error: DomainError, locate: FieldLocator = fieldLocator()): HttpProblem {
  if (NOT_FOUND_CODES.has(error.code)) return workoutNotFound();
  const issues = error.issues.length > 0 ? error.issues : error.field !== undefined ? [{ field: error.field, message: error.message }] : [];
  const errors = issues.map((issue) => ({ field: locate(issue.field), message: issue.message }));
  return new HttpProblem(422, error.code, 'Unprocessable Content', error.message, errors.length > 0 ? errors : undefined);
}

export function idempotencyKeyReused(): HttpProblem {
  return new HttpProblem(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    'Unprocessable Content',
    'this Idempotency-Key was already used for a different request; use a new key for a new request',
    [{ field: '/headers/idempotency-key', message: 'already used for a different request' }],
  );
}

export function preconditionFailed(): HttpProblem {
  return new HttpProblem(412, 'PRECONDITION_FAILED', 'Precondition Failed', 'the workout has changed since the revision named in If-Match');
}

export function invalidIfMatch(): HttpProblem {
  return new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', '/headers/if-match: must be "*" or a list of entity tags', [
    { field: '/headers/if-match', message: 'must be "*" or a list of entity tags like "3"' },
  ]);
}

export function concurrentModification(): HttpProblem {
  return new HttpProblem(409, 'CONCURRENT_MODIFICATION', 'Conflict', 'the workout kept changing while the command was applied; retry');
}

export function subjectErased(): HttpProblem {
  return new HttpProblem(410, 'SUBJECT_ERASED', 'Gone', 'the health data of this workout was erased');
}

/** A field-level 400 for rules across fields that JSON schema does not express readably. */
export function validationFailed(field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', `${field}: ${message}`, [{ field, message }]);
}

/** createService errorMappers: one place for domain, store, crypto and auth errors. */
export const commandErrorMappers: readonly ErrorMapper[] = [
  (error) => (error instanceof DomainError ? domainProblem(error) : undefined),
  (error) => (error instanceof StreamDeletedError ? new HttpProblem(410, 'WORKOUT_DELETED', 'Gone', 'the workout was deleted') : undefined),
  (error) => (error instanceof SubjectKeyDestroyedError ? subjectErased() : undefined),
  (error) => (error instanceof InvalidAppendError ? new HttpProblem(400, 'INVALID_APPEND', 'Bad Request', 'the command produced events the store refuses') : undefined),
  (error) => (error instanceof IdempotencyConflictError ? idempotencyKeyReused() : undefined),
  (error) => (error instanceof WrongExpectedRevisionError ? concurrentModification() : undefined),
  (error) =>
    error instanceof AuthenticationError
      ? new HttpProblem(error.status, error.code, error.title, error.message, undefined, { ...error.headers, 'cache-control': 'no-store' })
      : undefined,
];
