import { initialState, type LoggedSet, type SetValues, type WorkoutState } from '@fitledger/domain';
import { describe, expect, it } from 'vitest';
import { exerciseIdsOf } from './workoutRows';

const logged = (exerciseId: string, i: number): LoggedSet => ({ setId: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, exerciseId, reps: 5 }) as unknown as LoggedSet;
const planned = (exerciseId: string): SetValues => ({ exerciseId, reps: 5 }) as unknown as SetValues;

describe('exerciseIdsOf', () => {
  it('lists each exercise once: logged ones in logging order, then those only planned', () => {
    const state: WorkoutState = {
      ...initialState(),
      status: 'in_progress',
      sets: ['a', 'a', 'b', 'a', 'c', 'c', 'b'].map(logged),
      plannedSets: ['b', 'd', 'a', 'd', 'e'].map(planned),
    };
    expect(exerciseIdsOf(state)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(exerciseIdsOf({ ...initialState(), status: 'planned', plannedSets: ['x', 'x'].map(planned) })).toEqual(['x']);
    expect(exerciseIdsOf(initialState())).toEqual([]);
  });
});
