import { profileDecider, profileStreamId, type ProfileCommand, type ProfileEvent, type ProfileState } from '@fitledger/domain';
import { decideWorkoutAccess } from './accessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamRunnerDeps } from './streamCommandRunner';

/**
 * Profiles: one stream per person, addressed by the caller's own subject id (`profile-<sub>`), so
 * nobody can name another person's profile. Access is the owner-only policy of workouts: a `create`
 * on the caller's empty stream starts it, and on their own existing stream changes it.
 */
export const profileKind: StreamKind<ProfileState, ProfileCommand, ProfileEvent> = {
  noun: 'profile',
  notFoundCode: 'PROFILE_NOT_FOUND',
  // Reached only if the same subject id turns up under another tenant.
  alreadyExists: { code: 'PROFILE_ALREADY_EXISTS', field: 'profile' },
  notFoundDomainCodes: new Set(),
  roleNotAllowed: 'this role keeps no profile here',
  decider: profileDecider,
  streamId: profileStreamId,
  access: decideWorkoutAccess,
};

export function createProfileCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(profileKind, deps);
}

export type ProfileCommandRunner = ReturnType<typeof createProfileCommandRunner>;
