import { describe, expect, it } from 'vitest';
import { number, object, optional, string, uuid } from '../validation/validator';
import { createEventRegistry, defineEventType, EventSchemaError, type EventSchemaErrorCode } from './eventRegistry';
import { eventRegistry, upcast } from './registry';

// A made-up event type with three versions: v1 { grams }, v2 { weightKg }, v3 { weightKg, unit }.
const weighed = defineEventType({
  type: 'BodyWeighed',
  schemaVersion: 3,
  plainFields: ['measurementId'],
  validator: object({ measurementId: uuid(), weightKg: number({ min: 0 }), note: optional(string({ max: 10 })) }),
  upcasters: {
    1: ({ grams, ...rest }) => ({ ...rest, weightKg: Number(grams) / 1000 }),
    2: (data) => ({ ...data, note: 'v2' }),
  },
});
const registry = createEventRegistry([weighed]);
const id = '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d';

function codeOf(fn: () => unknown): EventSchemaErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventSchemaError) return error.code;
    throw error;
  }
  return undefined;
}

describe('event registry', () => {
  it('upcasts step by step from any old version to the current one', () => {
    expect(registry.upcast('BodyWeighed', 1, { measurementId: id, grams: 81500 })).toEqual({ measurementId: id, weightKg: 81.5, note: 'v2' });
    expect(registry.upcast('BodyWeighed', 2, { measurementId: id, weightKg: 80 })).toEqual({ measurementId: id, weightKg: 80, note: 'v2' });
  });

  it('leaves current-version data as it is', () => {
    expect(registry.upcast('BodyWeighed', 3, { measurementId: id, weightKg: 80 })).toEqual({ measurementId: id, weightKg: 80 });
  });

  it('never mutates the stored data it upcasts', () => {
    const stored = { measurementId: id, grams: 81500 };
    registry.upcast('BodyWeighed', 1, stored);
    expect(stored).toEqual({ measurementId: id, grams: 81500 });
  });

  it('rejects an unknown event type with UNKNOWN_EVENT_TYPE', () => {
    expect(codeOf(() => registry.upcast('BodyScanned', 1, {}))).toBe('UNKNOWN_EVENT_TYPE');
    expect(codeOf(() => upcast('NoSuchEvent', 1, {}))).toBe('UNKNOWN_EVENT_TYPE');
  });

  it('rejects a version newer than the current one or below 1 with UNSUPPORTED_SCHEMA_VERSION', () => {
    expect(codeOf(() => registry.upcast('BodyWeighed', 4, {}))).toBe('UNSUPPORTED_SCHEMA_VERSION');
    expect(codeOf(() => registry.upcast('BodyWeighed', 0, {}))).toBe('UNSUPPORTED_SCHEMA_VERSION');
    expect(codeOf(() => registry.upcast('BodyWeighed', 1.5, {}))).toBe('UNSUPPORTED_SCHEMA_VERSION');
  });

  it('rejects a version with a missing upcaster on its path with NO_UPCAST_PATH', () => {
    const gappy = createEventRegistry([defineEventType({ ...weighed, upcasters: { 2: (d) => d } })]);
    expect(codeOf(() => gappy.upcast('BodyWeighed', 1, { grams: 1 }))).toBe('NO_UPCAST_PATH');
    expect(gappy.upcast('BodyWeighed', 2, { measurementId: id, weightKg: 1 })).toEqual({ measurementId: id, weightKg: 1 });
  });

  it('read() validates current-version data in place, leaving it as it was, and copies data it upcasts', () => {
    const current = Object.freeze({ measurementId: id, weightKg: 81.5, note: 'v2' });
    expect(registry.read('BodyWeighed', 3, current)).toEqual(current);
    const old = { measurementId: id, grams: 81500 };
    registry.read('BodyWeighed', 1, old);
    expect(old).toEqual({ measurementId: id, grams: 81500 });
  });

  it('read() upcasts and validates, naming the failing fields', () => {
    expect(registry.read('BodyWeighed', 1, { measurementId: id, grams: 81500 })).toEqual({ measurementId: id, weightKg: 81.5, note: 'v2' });
    try {
      registry.read('BodyWeighed', 3, { measurementId: 'alice@example.com', weightKg: -1 });
      expect.fail('expected INVALID_EVENT_DATA');
    } catch (error) {
      expect(error).toBeInstanceOf(EventSchemaError);
      const schemaError = error as EventSchemaError;
      expect(schemaError.code).toBe('INVALID_EVENT_DATA');
      expect(schemaError.issues.map((i) => i.field)).toEqual(['measurementId', 'weightKg']);
    }
  });

  it('rejects non-object data with INVALID_EVENT_DATA', () => {
    expect(codeOf(() => registry.upcast('BodyWeighed', 3, 'x'))).toBe('INVALID_EVENT_DATA');
  });

  it('refuses a definition registered twice or with a plain field that is not a data field', () => {
    expect(codeOf(() => createEventRegistry([weighed, weighed]))).toBe('INVALID_EVENT_DEFINITION');
    expect(codeOf(() => createEventRegistry([{ ...weighed, plainFields: ['weightKgg'] }]))).toBe('INVALID_EVENT_DEFINITION');
    expect(codeOf(() => createEventRegistry([{ ...weighed, type: 'bodyWeighed' }]))).toBe('INVALID_EVENT_DEFINITION');
    expect(codeOf(() => createEventRegistry([{ ...weighed, schemaVersion: 0 }]))).toBe('INVALID_EVENT_DEFINITION');
  });

  it('lists every version that may be stored, oldest first', () => {
    expect(registry.versions('BodyWeighed')).toEqual([1, 2, 3]);
    expect(createEventRegistry([{ ...weighed, firstSchemaVersion: 2 }]).versions('BodyWeighed')).toEqual([2, 3]);
  });

  it('registers every event type of every module at schema version 1', () => {
    expect(eventRegistry.types()).toEqual([
      'BodyMeasurementCorrected',
      'BodyMeasurementDeleted',
      'BodyMeasurementRecorded',
      'CoachingAccepted',
      'CoachingEnded',
      'CoachingInvited',
      'ConsentGiven',
      'ConsentGuardianConfirmed',
      'ConsentWithdrawn',
      'EmergencyAccessClosed',
      'EmergencyAccessOpened',
      'EmergencyAccessReviewed',
      'ExerciseArchived',
      'ExerciseCreated',
      'ExerciseRevised',
      'GoalAchieved',
      'GoalCancelled',
      'GoalMissed',
      'GoalSet',
      'MemberInvited',
      'MemberJoined',
      'MemberRemoved',
      'MemberRoleChanged',
      'OrganisationCreated',
      'PlanArchived',
      'PlanCreated',
      'PlanRevised',
      'ProfileUpdated',
      'SetCorrected',
      'SetDeleted',
      'SetLogged',
      'TemplateArchived',
      'TemplateCreated',
      'TemplateRevised',
      'TimeZoneChanged',
      'WorkoutCancelled',
      'WorkoutCloned',
      'WorkoutCompleted',
      'WorkoutPlanned',
      'WorkoutStarted',
    ]);
    for (const type of eventRegistry.types()) expect(eventRegistry.currentVersion(type)).toBe(1);
  });
});
