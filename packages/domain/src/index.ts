export * from './json';
export * from './errors';
export * from './decider';
// Validator combinators are exported as a namespace: names like `string` and `object` would
// shadow too much at the package root.
export * as validators from './validation/validator';
export type { IssueCode, ObjectValidator, OptionalValidator, ValidationIssue, ValidationResult, Validator } from './validation/validator';
export { characterCount, isUuid } from './validation/validator';
export * from './events/envelope';
export * from './events/uuidv7';
export * from './events/eventRegistry';
export * from './events/registry';
export * from './units/units';
export * from './workout/events';
export * from './workout/commands';
export * from './workout/workout';
export * from './workout/workoutEventTypes';
export * from './workout/personalRecords';
export * from './exercise/vocabulary';
export * from './exercise/events';
export * from './exercise/commands';
export * from './exercise/exercise';
export * from './exercise/exerciseEventTypes';
export * from './bodyMetrics/events';
export * from './bodyMetrics/commands';
export * from './bodyMetrics/bodyMeasurement';
export * from './bodyMetrics/bodyMeasurementEventTypes';
export * from './calendar/calendar';
export * from './calendar/streaks';
