import type { Role } from '@fitledger/domain';
import { WRITE_SCOPE, type AccessDecision, type Caller, type WorkoutOwner } from './accessPolicy';

/**
 * Who may write custom exercises. Same shape as the workout policy (accessPolicy.ts): the token
 * needs fitledger:write, and only the author (subject and tenant of the stream's first event) may
 * revise or archive — also an organisation-wide exercise, which colleagues can see but not change.
 * Anyone else gets "not found", so existence does not leak. Org admins may author too: curating an
 * organisation's library is their job, though they record no workouts.
 */
export const EXERCISE_AUTHOR_ROLES: readonly Role[] = ['client', 'trainer', 'org_admin'];

export type ExerciseAction = 'create' | 'change';
export type ExerciseOwner = WorkoutOwner;

export function decideExerciseAccess(caller: Caller, action: ExerciseAction, owner: ExerciseOwner | undefined): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  if (!EXERCISE_AUTHOR_ROLES.includes(caller.role)) return { outcome: 'forbidden', reason: 'role' };
  const own = owner !== undefined && owner.subjectId === caller.sub && owner.tenantId === caller.tenantId;
  const allow = { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId } as const;
  switch (action) {
    case 'create':
      if (owner === undefined) return allow;
      return own ? allow : { outcome: 'exists' };
    case 'change':
      return own ? allow : { outcome: 'not_found' };
    default: {
      const _: never = action;
      throw new Error(`unknown action ${String(_)}`);
    }
  }
}
