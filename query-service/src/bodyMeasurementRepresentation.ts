import { displayIn, type Displayed, type Quantity, type UnitPreferences } from '@fitledger/domain';

/** Body measurements as the query API and the feed show them (from `rm_body_measurements` rows). */

/** Canonical unit of `value` per metric. */
export const CANONICAL_UNITS = {
  weight: 'kg',
  body_fat: '%',
  circumference: 'm',
  resting_heart_rate: 'bpm',
  blood_pressure: 'mmHg',
  sleep_duration: 's',
  hydration: 'l',
} as const;

export type BodyMetricName = keyof typeof CANONICAL_UNITS;
export const BODY_METRIC_NAMES = Object.keys(CANONICAL_UNITS) as BodyMetricName[];

export interface BodyMeasurementRepresentation {
  readonly measurementId: string;
  readonly metric: string;
  readonly site: string | null;
  /** The canonical value (blood pressure: systolic), in `unit`. */
  readonly value: number;
  readonly unit: string;
  readonly entered: { readonly value: number; readonly unit: string } | null;
  readonly systolicMmHg: number | null;
  readonly diastolicMmHg: number | null;
  readonly measuredAt: string;
  readonly note: string | null;
  readonly revision: number;
  /** The value in the person's preferred unit (weight, circumference, hydration; null for the others). Absent on feed messages. */
  readonly display?: Displayed | null;
}

/** The quantity of each metric that has a display preference. */
const DISPLAY_QUANTITY: Readonly<Partial<Record<string, Quantity>>> = { weight: 'mass', circumference: 'length', hydration: 'volume' };

/** A row as selected, or as `to_jsonb` renders it in a feed payload. */
export interface BodyMeasurementRowLike {
  readonly measurement_id: string;
  readonly metric: string;
  readonly site: string | null;
  readonly value_si: number | string;
  readonly entered_value: number | string | null;
  readonly entered_unit: string | null;
  readonly systolic_mmhg: number | null;
  readonly diastolic_mmhg: number | null;
  readonly measured_at: Date | string;
  readonly note: string | null;
  readonly revision: number | string;
}

/** The representation of a row; with `preferences`, also its `display` value in the person's units. */
export function bodyMeasurement(row: BodyMeasurementRowLike, preferences?: UnitPreferences): BodyMeasurementRepresentation {
  const quantity = DISPLAY_QUANTITY[row.metric];
  return {
    measurementId: row.measurement_id,
    metric: row.metric,
    site: row.site,
    value: Number(row.value_si),
    unit: CANONICAL_UNITS[row.metric as BodyMetricName] ?? '',
    entered: row.entered_value === null || row.entered_unit === null ? null : { value: Number(row.entered_value), unit: row.entered_unit },
    systolicMmHg: row.systolic_mmhg,
    diastolicMmHg: row.diastolic_mmhg,
    measuredAt: new Date(row.measured_at).toISOString(),
    note: row.note,
    revision: Number(row.revision),
    ...(preferences === undefined ? {} : { display: quantity === undefined ? null : displayIn(quantity, Number(row.value_si), preferences) }),
  };
}

export const bodyMeasurementSchema = {
  $id: 'BodyMeasurement',
  type: 'object',
  additionalProperties: false,
  required: ['measurementId', 'metric', 'site', 'value', 'unit', 'entered', 'systolicMmHg', 'diastolicMmHg', 'measuredAt', 'note', 'revision'],
  properties: {
    measurementId: { type: 'string', format: 'uuid' },
    metric: { type: 'string', enum: BODY_METRIC_NAMES },
    site: { type: ['string', 'null'], description: 'Where a circumference was measured.' },
    value: { type: 'number', description: 'Canonical value in `unit` (kg, %, m, bpm, mmHg systolic, s, l).' },
    unit: { type: 'string' },
    entered: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['value', 'unit'],
      properties: { value: { type: 'number' }, unit: { type: 'string' } },
      description: 'The value as the user entered it (weight, circumference, hydration).',
    },
    systolicMmHg: { type: ['integer', 'null'] },
    diastolicMmHg: { type: ['integer', 'null'] },
    measuredAt: { type: 'string', format: 'date-time' },
    note: { type: ['string', 'null'] },
    revision: { type: 'integer', description: 'The ETag of the measurement.' },
    display: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['value', 'unit'],
      properties: { value: { type: 'number' }, unit: { type: 'string' } },
      description: "The value in the caller's preferred unit (kg or lb, cm or in, ml or fl_oz; unrounded); null for metrics without one. REST only, not on feed messages.",
    },
  },
} as const;
