import { bodyMeasurementEventTypes } from '../bodyMetrics/bodyMeasurementEventTypes';
import { exerciseEventTypes } from '../exercise/exerciseEventTypes';
import { profileEventTypes } from '../profile/profileEventTypes';
import { goalEventTypes } from '../goal/goalEventTypes';
import { coachingEventTypes, consentEventTypes, emergencyAccessEventTypes, organisationEventTypes } from '../access/accessEventTypes';
import { planEventTypes } from '../plan/planEventTypes';
import { templateEventTypes } from '../template/templateEventTypes';
import { workoutEventTypes } from '../workout/workoutEventTypes';
import { createEventRegistry, type EventRegistry } from './eventRegistry';

/** Every event type FitLedger writes. Add a module's definitions here when it gets events. */
export const eventRegistry: EventRegistry = createEventRegistry([...workoutEventTypes, ...exerciseEventTypes, ...bodyMeasurementEventTypes, ...profileEventTypes, ...templateEventTypes, ...planEventTypes, ...goalEventTypes, ...consentEventTypes, ...coachingEventTypes, ...organisationEventTypes, ...emergencyAccessEventTypes]);

/** Brings stored data of (type, schemaVersion) to the current version; throws EventSchemaError. */
export function upcast(type: string, schemaVersion: number, data: unknown): ReturnType<EventRegistry['upcast']> {
  return eventRegistry.upcast(type, schemaVersion, data);
}
