import { expect } from 'vitest';
import type { Decider } from '../src/decider';
import { DomainError, type DomainErrorCode } from '../src/errors';

/**
 * given(events).when(command).then(events) for a decider: `given` folds the history with `evolve`,
 * `when` runs `decide`, `then*` asserts the outcome.
 */
export function deciderSpecification<State, Command, Event>(decider: Decider<State, Command, Event>) {
  return {
    given(events: readonly Event[]) {
      const state = events.reduce((current, event) => decider.evolve(current, event), decider.initialState());
      return {
        when(command: Command) {
          const run = (): Event[] => decider.decide(command, state);
          return {
            then(expected: readonly Event[]): void {
              expect(run()).toEqual(expected);
            },
            thenNothingHappens(): void {
              expect(run()).toEqual([]);
            },
            thenThrows(code: DomainErrorCode, field?: string): DomainError {
              let caught: unknown;
              let events: Event[] | undefined;
              try {
                events = run();
              } catch (error) {
                caught = error;
              }
              if (events !== undefined) expect.fail(`expected ${code}, got events ${JSON.stringify(events)}`);
              expect(caught).toBeInstanceOf(DomainError);
              const error = caught as DomainError;
              expect({ code: error.code, field: error.field }).toEqual({ code, field });
              return error;
            },
          };
        },
      };
    },
  };
}
