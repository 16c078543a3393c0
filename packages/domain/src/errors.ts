import type { ValidationIssue } from './validation/validator';

/** Stable codes of rule violations; the services map them to problem+json in one place. */
export type DomainErrorCode =
  | 'VALIDATION_FAILED'
  | 'WORKOUT_NOT_FOUND'
  | 'WORKOUT_ALREADY_EXISTS'
  | 'WORKOUT_ID_MISMATCH'
  | 'WORKOUT_NOT_STARTED'
  | 'WORKOUT_ALREADY_STARTED'
  | 'WORKOUT_ALREADY_COMPLETED'
  | 'WORKOUT_CANCELLED'
  | 'SET_AFTER_COMPLETION'
  | 'SET_ALREADY_EXISTS'
  | 'SET_NOT_FOUND'
  | 'SOURCE_WORKOUT_NOT_FOUND'
  | 'EXERCISE_NOT_FOUND'
  | 'EXERCISE_ALREADY_EXISTS'
  | 'EXERCISE_ID_MISMATCH'
  | 'EXERCISE_ARCHIVED'
  | 'MEASUREMENT_NOT_FOUND'
  | 'MEASUREMENT_ALREADY_EXISTS'
  | 'MEASUREMENT_ID_MISMATCH'
  | 'MEASUREMENT_DELETED'
  | 'PROFILE_ALREADY_EXISTS'
  | 'TEMPLATE_NOT_FOUND'
  | 'TEMPLATE_ALREADY_EXISTS'
  | 'TEMPLATE_ID_MISMATCH'
  | 'TEMPLATE_ARCHIVED'
  | 'PLAN_NOT_FOUND'
  | 'PLAN_ALREADY_EXISTS'
  | 'PLAN_ID_MISMATCH'
  | 'PLAN_ARCHIVED'
  | 'GOAL_NOT_FOUND'
  | 'GOAL_ALREADY_EXISTS'
  | 'GOAL_ID_MISMATCH'
  | 'GOAL_DECIDED'
  | 'CONSENT_NOT_FOUND'
  | 'CONSENT_ALREADY_EXISTS'
  | 'CONSENT_WITHDRAWN'
  | 'RELATIONSHIP_NOT_FOUND'
  | 'RELATIONSHIP_ALREADY_EXISTS'
  | 'RELATIONSHIP_ENDED'
  | 'ORGANISATION_NOT_FOUND'
  | 'ORGANISATION_ALREADY_EXISTS'
  | 'NOT_ORGANISATION_ADMIN'
  | 'ALREADY_MEMBER'
  | 'INVITATION_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'
  | 'OWN_ROLE'
  | 'LAST_ADMIN'
  | 'EMERGENCY_ACCESS_EXISTS'
  | 'EMERGENCY_ACCESS_NOT_FOUND'
  | 'EMERGENCY_ACCESS_REVIEWED'
  | 'OWN_REVIEW';

/** A command broke a domain rule. `field` names the offending field when there is one. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly field: string | undefined;
  /** Every field problem found (VALIDATION_FAILED); `field` is the first one's. */
  readonly issues: readonly ValidationIssue[];

  constructor(code: DomainErrorCode, message: string, options: { field?: string; issues?: readonly ValidationIssue[] } = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.field = options.field ?? options.issues?.[0]?.field;
    this.issues = options.issues ?? [];
  }

  static validation(issues: readonly ValidationIssue[]): DomainError {
    return new DomainError('VALIDATION_FAILED', issues.map((i) => i.message).join('; ') || 'validation failed', { issues });
  }

  static invalidField(field: string, message: string): DomainError {
    return DomainError.validation([{ field, code: 'range', message }]);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
