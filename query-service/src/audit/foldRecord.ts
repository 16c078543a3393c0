import {
  bodyMeasurementDecider,
  coachingDecider,
  consentDecider,
  emergencyAccessDecider,
  exerciseDecider,
  goalDecider,
  organisationDecider,
  planDecider,
  profileDecider,
  templateDecider,
  workoutDecider,
} from '@fitledger/domain';
import type { OpenedEvent } from '@fitledger/audit';

interface Folder {
  initialState(): unknown;
  evolve(state: unknown, event: never): unknown;
}

/** The decider of each stream kind (the stream id's prefix), for the auditor's "state as of". */
const FOLDERS: Readonly<Record<string, Folder>> = {
  workout: workoutDecider,
  exercise: exerciseDecider,
  bodymeasurement: bodyMeasurementDecider,
  profile: profileDecider,
  template: templateDecider,
  plan: planDecider,
  goal: goalDecider,
  consent: consentDecider,
  coaching: coachingDecider,
  organisation: organisationDecider,
  emergency: emergencyAccessDecider,
};

/** A record's state from its (opened, upcast) events with the domain's own evolve; undefined for an unknown kind. */
export function foldRecord(streamId: string, events: readonly OpenedEvent[]): unknown {
  const folder = FOLDERS[streamId.slice(0, streamId.indexOf('-'))];
  if (folder === undefined) return undefined;
  return events.reduce((state, event) => folder.evolve(state, event as never), folder.initialState());
}
