import type { Role } from '@fitledger/domain';

/**
 * Who may write to a workout. Pure: the caller passes who is asking and whose workout it is (from
 * the stream's first event, never from the request body).
 *
 * Today the policy is owner-only: a person records and changes their own workouts. Trainers acting
 * for a client (role × organisation × consent, ARCHITECTURE.md "Roles") are a later issue; the seam
 * is `onBehalfOf` in the decision and the `owner` input, which will then be checked against the
 * subject's consent stream instead of `actor.sub`. When that moves to packages/domain (access
 * policy decisions), this function becomes a thin call into it.
 */

/** Write scope an access token must carry for any command route (RFC 9068 `scope`). */
export const WRITE_SCOPE = 'fitledger:write';

/** Roles that record their own workouts. Auditors, researchers and admins never write health data. */
export const SELF_RECORDING_ROLES: readonly Role[] = ['client', 'trainer'];

export interface Caller {
  readonly sub: string;
  readonly role: Role;
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

/** Whose workout it is, from the stream's first event metadata; undefined when the stream is empty. */
export interface WorkoutOwner {
  readonly subjectId: string;
  readonly tenantId: string;
}

export type WorkoutAction =
  /** Creates the workout stream (plan, start a new workout, clone into a new id). */
  | 'create'
  /** Changes an existing workout (start, log/correct/delete sets, complete, cancel), or reads it as a clone source. */
  | 'change';

export type AccessDecision =
  /** Go ahead; the events are about `subjectId` (and written by the caller). */
  | { readonly outcome: 'allow'; readonly subjectId: string; readonly tenantId: string }
  /** The caller may not write workouts at all (scope or role): 403, reveals nothing about any workout. */
  | { readonly outcome: 'forbidden'; readonly reason: 'missing_scope' | 'role' }
  /** No such workout, or not one the caller may see: 404 either way, so existence does not leak. */
  | { readonly outcome: 'not_found' }
  /** A create on an id already taken (by anyone): answered like the domain's WORKOUT_ALREADY_EXISTS. */
  | { readonly outcome: 'exists' };

export function decideWorkoutAccess(caller: Caller, action: WorkoutAction, owner: WorkoutOwner | undefined): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  if (!SELF_RECORDING_ROLES.includes(caller.role)) return { outcome: 'forbidden', reason: 'role' };
  const own = owner !== undefined && owner.subjectId === caller.sub && owner.tenantId === caller.tenantId;
  switch (action) {
    case 'create':
      if (owner === undefined) return { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId };
      // Someone else's id gets the same answer as one's own: nothing about the owner leaks.
      return own ? { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId } : { outcome: 'exists' };
    case 'change':
      return own ? { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId } : { outcome: 'not_found' };
    default: {
      const _: never = action;
      throw new Error(`unknown action ${String(_)}`);
    }
  }
}
