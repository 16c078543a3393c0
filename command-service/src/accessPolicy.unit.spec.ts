import { describe, expect, it } from 'vitest';
import { decideWorkoutAccess, type Caller, type WorkoutOwner } from './accessPolicy';

const tenant = 'tenant-1';
const alice: Caller = { sub: 'alice', role: 'client', tenantId: tenant, scopes: ['fitledger:read', 'fitledger:write'] };
const bob: Caller = { ...alice, sub: 'bob' };
const alicesWorkout: WorkoutOwner = { subjectId: 'alice', tenantId: tenant };

describe('decideWorkoutAccess (owner-only)', () => {
  it('lets a client change their own workout', () => {
    expect(decideWorkoutAccess(alice, 'change', alicesWorkout)).toEqual({ outcome: 'allow', subjectId: 'alice', tenantId: tenant });
  });

  it('answers not_found for someone else’s workout (positive control: the owner is allowed)', () => {
    expect(decideWorkoutAccess(bob, 'change', alicesWorkout)).toEqual({ outcome: 'not_found' });
    expect(decideWorkoutAccess(alice, 'change', alicesWorkout).outcome).toBe('allow');
  });

  it('answers not_found for one’s own subject id in another tenant', () => {
    expect(decideWorkoutAccess({ ...alice, tenantId: 'tenant-2' }, 'change', alicesWorkout)).toEqual({ outcome: 'not_found' });
  });

  it('answers not_found for a change to a workout that does not exist', () => {
    expect(decideWorkoutAccess(alice, 'change', undefined)).toEqual({ outcome: 'not_found' });
  });

  it('creates a new workout for the caller, never for anyone named elsewhere', () => {
    expect(decideWorkoutAccess(alice, 'create', undefined)).toEqual({ outcome: 'allow', subjectId: 'alice', tenantId: tenant });
  });

  it('answers exists for a create on someone else’s id (and lets the owner’s create reach the decider)', () => {
    expect(decideWorkoutAccess(bob, 'create', alicesWorkout)).toEqual({ outcome: 'exists' });
    expect(decideWorkoutAccess(alice, 'create', alicesWorkout).outcome).toBe('allow');
  });

  it('forbids a token without fitledger:write', () => {
    expect(decideWorkoutAccess({ ...alice, scopes: ['fitledger:read'] }, 'change', alicesWorkout)).toEqual({ outcome: 'forbidden', reason: 'missing_scope' });
  });

  it('forbids roles that do not record workouts; a trainer records their own', () => {
    for (const role of ['auditor', 'researcher', 'org_admin', 'platform_admin', 'system'] as const) {
      expect(decideWorkoutAccess({ ...alice, role }, 'create', undefined)).toEqual({ outcome: 'forbidden', reason: 'role' });
    }
    expect(decideWorkoutAccess({ ...alice, role: 'trainer' }, 'create', undefined).outcome).toBe('allow');
  });
});
