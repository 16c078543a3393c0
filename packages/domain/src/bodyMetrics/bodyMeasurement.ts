import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { withoutNegativeZero } from '../json';
import { toKg, MASS_UNITS } from '../units/units';
import type { ObjectValidator } from '../validation/validator';
import { bodyMeasurementCorrectedValidator, bodyMeasurementDeletedValidator, bodyMeasurementRecordedValidator } from './bodyMeasurementEventTypes';
import type { BodyMeasurementCommand, MeasurementInput } from './commands';
import type { BodyMeasurementEvent, BodyMeasurementRecordedData, BodyMeasurementValues, LengthUnit, VolumeUnit } from './events';

/** Allowed clock skew for `measuredAt` (a device's clock running a little ahead). */
export const MEASUREMENT_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * One stream per measurement (`bodymeasurement-<id>`): record, correct, delete. Streams stay a few
 * events long however many years of measurements a person has, so loading one never gets slower;
 * series are read from the projection, never by folding streams.
 */
export const bodyMeasurementStreamId = (measurementId: string): string => `bodymeasurement-${measurementId}`;

export type BodyMeasurementState =
  | { readonly status: 'none' }
  | { readonly status: 'recorded'; readonly current: BodyMeasurementRecordedData }
  | { readonly status: 'deleted'; readonly measurementId: string };

export const initialBodyMeasurementState = (): BodyMeasurementState => ({ status: 'none' });

const CM_PER_IN = 2.54;
const L_PER_FL_OZ = 0.0295735295625; // US customary fluid ounce, exactly 1/128 US gallon of 231 in³

export function lengthToMetres(value: number, unit: LengthUnit): number {
  return unit === 'cm' ? value / 100 : (value * CM_PER_IN) / 100;
}

export function volumeToLitres(value: number, unit: VolumeUnit): number {
  switch (unit) {
    case 'ml':
      return value / 1000;
    case 'l':
      return value;
    case 'fl_oz':
      return value * L_PER_FL_OZ;
    default: {
      const _: never = unit;
      throw new Error(`unknown volume unit ${String(_)}`);
    }
  }
}

/** The stored values of an input: entered value and unit kept, canonical SI derived. Unknown units are left for validation to name. */
function valuesOf(input: MeasurementInput): Record<string, unknown> {
  switch (input.metric) {
    case 'weight':
      return { metric: 'weight', entered: input.weight, weightKg: (MASS_UNITS as readonly string[]).includes(input.weight?.unit) ? toKg(input.weight.value, input.weight.unit) : undefined };
    case 'circumference':
      return {
        metric: 'circumference',
        site: input.site,
        entered: input.circumference,
        circumferenceM: input.circumference?.unit === 'cm' || input.circumference?.unit === 'in' ? lengthToMetres(input.circumference.value, input.circumference.unit) : undefined,
      };
    case 'hydration':
      return {
        metric: 'hydration',
        entered: input.volume,
        volumeL: ['ml', 'l', 'fl_oz'].includes(input.volume?.unit) ? volumeToLitres(input.volume.value, input.volume.unit) : undefined,
      };
    case 'body_fat':
    case 'resting_heart_rate':
    case 'blood_pressure':
    case 'sleep_duration':
      return { ...input };
    default: {
      const _: never = input;
      // Validation names the unknown metric.
      return { ...(_ as object) };
    }
  }
}

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) {
    // The client sent `weight`, `circumference` or `volume`: name those, not the derived fields.
    throw DomainError.validation(
      result.issues.map((i) => {
        const field = i.code === 'unknown_field' ? `measurement.${i.field}` : clientField(i.field);
        return { ...i, field, message: field === i.field ? i.message : `${field}: ${i.message}` };
      }),
    );
  }
  return result.value;
}

const DERIVED_TO_INPUT: Readonly<Record<string, string>> = {
  weightKg: 'measurement.weight.value',
  circumferenceM: 'measurement.circumference.value',
  volumeL: 'measurement.volume.value',
  'entered.value': 'measurement.value',
};

function clientField(field: string): string {
  if (field in DERIVED_TO_INPUT) return DERIVED_TO_INPUT[field] as string;
  if (field.startsWith('entered.')) return `measurement.${field.slice('entered.'.length)}`;
  if (field === 'measurementId' || field === 'measuredAt' || field === 'note' || field === 'reason') return field;
  return `measurement.${field}`;
}

function measuredAtOf(date: Date | undefined, now: Date): string {
  const at = date ?? now;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw DomainError.invalidField('measuredAt', 'measuredAt must be a valid date-time');
  if (at.getTime() > now.getTime() + MEASUREMENT_CLOCK_SKEW_MS) throw DomainError.invalidField('measuredAt', 'measuredAt must not be in the future');
  if (at.getTime() < Date.UTC(1900, 0, 1)) throw DomainError.invalidField('measuredAt', 'measuredAt must not be before 1900');
  return at.toISOString();
}

function sameValues(a: BodyMeasurementRecordedData, b: BodyMeasurementRecordedData): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, sorted(v)]));
  return value;
}

export function decideBodyMeasurement(given: BodyMeasurementCommand, state: BodyMeasurementState): BodyMeasurementEvent[] {
  const command = { ...given, data: withoutNegativeZero(given.data) } as BodyMeasurementCommand;
  const { now } = command.metadata;
  const { measurementId } = command.data;
  if (state.status === 'recorded' && state.current.measurementId !== measurementId) {
    throw new DomainError('MEASUREMENT_ID_MISMATCH', 'the command addresses another measurement than this stream', { field: 'measurementId' });
  }
  switch (command.type) {
    case 'RecordBodyMeasurement': {
      const data = valid(bodyMeasurementRecordedValidator, {
        ...valuesOf(command.data.measurement),
        measurementId,
        measuredAt: measuredAtOf(command.data.measuredAt, now),
        ...(command.data.note === undefined ? {} : { note: command.data.note }),
      });
      switch (state.status) {
        case 'none':
          return [{ type: 'BodyMeasurementRecorded', data }];
        case 'recorded':
          // A retry of the same record (same id, same values) changes nothing.
          if (sameValues(state.current, data)) return [];
          throw new DomainError('MEASUREMENT_ALREADY_EXISTS', 'a measurement with this id already exists', { field: 'measurementId' });
        case 'deleted':
          throw new DomainError('MEASUREMENT_DELETED', 'the measurement was deleted', { field: 'measurementId' });
        default: {
          const _: never = state;
          throw new Error(`unknown state ${JSON.stringify(_)}`);
        }
      }
    }
    case 'CorrectBodyMeasurement': {
      if (state.status === 'none') throw new DomainError('MEASUREMENT_NOT_FOUND', 'the measurement does not exist', { field: 'measurementId' });
      if (state.status === 'deleted') throw new DomainError('MEASUREMENT_DELETED', 'the measurement was deleted', { field: 'measurementId' });
      const { current } = state;
      const data = valid(bodyMeasurementCorrectedValidator, {
        ...valuesOf(command.data.measurement),
        measurementId,
        // Kept as recorded unless the correction says otherwise.
        measuredAt: command.data.measuredAt === undefined ? current.measuredAt : measuredAtOf(command.data.measuredAt, now),
        ...(command.data.note === undefined ? {} : { note: command.data.note }),
        ...(command.data.reason === undefined ? {} : { reason: command.data.reason }),
      });
      if (data.metric !== current.metric) {
        throw DomainError.validation([{ field: 'measurement.metric', code: 'inconsistent', message: `measurement.metric must stay ${current.metric}: delete and record anew to change it` }]);
      }
      const { reason: _reason, ...values } = data;
      if (sameValues(current, values)) return [];
      return [{ type: 'BodyMeasurementCorrected', data }];
    }
    case 'DeleteBodyMeasurement': {
      if (state.status === 'none') throw new DomainError('MEASUREMENT_NOT_FOUND', 'the measurement does not exist', { field: 'measurementId' });
      if (state.status === 'deleted') return [];
      const data = valid(bodyMeasurementDeletedValidator, { measurementId, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) });
      return [{ type: 'BodyMeasurementDeleted', data }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveBodyMeasurement(state: BodyMeasurementState, event: BodyMeasurementEvent): BodyMeasurementState {
  switch (event.type) {
    case 'BodyMeasurementRecorded':
      return { status: 'recorded', current: event.data };
    case 'BodyMeasurementCorrected': {
      const { reason: _reason, ...current } = event.data;
      return { status: 'recorded', current };
    }
    case 'BodyMeasurementDeleted':
      return { status: 'deleted', measurementId: event.data.measurementId };
    default: {
      const _: never = event;
      return state;
    }
  }
}

/** The measured value in one number for series and charts (blood pressure: systolic; see the row for both). */
export function canonicalValue(values: BodyMeasurementValues): number {
  switch (values.metric) {
    case 'weight':
      return values.weightKg;
    case 'body_fat':
      return values.bodyFatPercent;
    case 'circumference':
      return values.circumferenceM;
    case 'resting_heart_rate':
      return values.heartRateBpm;
    case 'blood_pressure':
      return values.systolicMmHg;
    case 'sleep_duration':
      return values.durationS;
    case 'hydration':
      return values.volumeL;
    default: {
      const _: never = values;
      throw new Error(`unknown metric ${JSON.stringify(_)}`);
    }
  }
}

export const bodyMeasurementDecider: Decider<BodyMeasurementState, BodyMeasurementCommand, BodyMeasurementEvent> = {
  initialState: initialBodyMeasurementState,
  evolve: evolveBodyMeasurement,
  decide: decideBodyMeasurement,
};
