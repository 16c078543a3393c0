import { decide, evolve, initialState, workoutStreamId, type CommandMetadata, type WorkoutCommand, type WorkoutEvent, type WorkoutState } from '@fitledger/domain';
import { decideWorkoutAccess } from './accessPolicy';
import type { FieldLocator } from './problems';
import {
  createStreamCommandRunner,
  type CommandContext,
  type CommandOutcome,
  type ContextInput,
  type Loaded,
  type StreamKind,
  type StreamRunnerDeps,
} from './streamCommandRunner';

export { MAX_ATTEMPTS } from './streamCommandRunner';
export type { CommandContext, CommandOutcome, ContextInput };
export type RunnerDeps = StreamRunnerDeps;
export type LoadedWorkout = Loaded<WorkoutState>;

/** Workouts: one stream per workout; owner-only access (accessPolicy.ts). */
export const workoutKind: StreamKind<WorkoutState, WorkoutCommand, WorkoutEvent> = {
  noun: 'workout',
  notFoundCode: 'WORKOUT_NOT_FOUND',
  alreadyExists: { code: 'WORKOUT_ALREADY_EXISTS', field: 'workoutId' },
  notFoundDomainCodes: new Set(['WORKOUT_NOT_FOUND', 'SOURCE_WORKOUT_NOT_FOUND']),
  roleNotAllowed: 'this role does not record workouts',
  decider: { initialState, evolve, decide },
  streamId: workoutStreamId,
  access: decideWorkoutAccess,
};

export interface CommandSpec {
  readonly workoutId: string;
  readonly action: 'create' | 'change';
  /** Whether If-Match applies to this stream (clone checks it against the source instead). */
  readonly ifMatchTarget: boolean;
  readonly locate?: FieldLocator;
  /** Builds the command from the current state; may load more (clone loads its source). */
  command(metadata: CommandMetadata, state: WorkoutState): WorkoutCommand | Promise<WorkoutCommand>;
}

/** The write path of every workout route (see createStreamCommandRunner). */
export function createWorkoutCommandRunner(deps: RunnerDeps) {
  const runner = createStreamCommandRunner(workoutKind, deps);
  return {
    context: runner.context,
    assertMayWrite: runner.assertMayWrite,
    loadForChange: runner.loadForChange,
    execute: (ctx: CommandContext, { workoutId, ...spec }: CommandSpec): Promise<CommandOutcome> => runner.execute(ctx, { id: workoutId, ...spec }),
  };
}

export type WorkoutCommandRunner = ReturnType<typeof createWorkoutCommandRunner>;
