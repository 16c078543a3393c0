import { DomainError } from '@fitledger/domain';
import { describe, expect, it } from 'vitest';
import { domainProblem, fieldLocator } from './problems';

describe('problems', () => {
  it('locates domain fields in the request, canonical values at the entered value', () => {
    const locate = fieldLocator({ at: { workoutId: '/params/workoutId', setId: '/body/setId' }, setFieldsUnder: '/body/set' });
    expect(locate('reps')).toBe('/body/set/reps');
    expect(locate('loadKg')).toBe('/body/set/load');
    expect(locate('distanceM')).toBe('/body/set/distance');
    expect(locate('occurredAt')).toBe('/body/occurredAt');
    expect(locate('setId')).toBe('/body/setId');
    expect(locate('workoutId')).toBe('/params/workoutId');
    expect(fieldLocator()('plannedSets[2].loadKg')).toBe('/body/plannedSets/2/load');
    expect(fieldLocator()('location.lat')).toBe('/body/location/lat');
  });

  it('maps a domain rule violation to 422 with its code and fields', () => {
    const problem = domainProblem(DomainError.invalidField('reps', 'reps must be between 1 and 999'), fieldLocator({ setFieldsUnder: '/body/set' }));
    expect(problem.status).toBe(422);
    expect(problem.toProblem()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/set/reps', message: 'reps must be between 1 and 999' }] });
  });

  it('maps "not found" domain errors to the one 404 answer', () => {
    const problem = domainProblem(new DomainError('WORKOUT_NOT_FOUND', 'the workout does not exist', { field: 'workoutId' }));
    expect(problem.toProblem()).toEqual({ type: 'https://fitledger.dev/problems/workout-not-found', title: 'Not Found', status: 404, detail: 'no such workout', code: 'WORKOUT_NOT_FOUND' });
  });
});
