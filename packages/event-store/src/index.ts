export * from './eventStore';
export * from './errors';
export { encodePgPosition, decodePgPosition, isPosition } from './position';
export { canonicalJson, defaultContentDigest } from './canonicalJson';
export { PostgresEventStore, MAX_EVENTS_PER_APPEND, MAX_READ_COUNT } from './postgres/postgresEventStore';
export type { PostgresEventStoreOptions } from './postgres/postgresEventStore';
export { migrateEventStore } from './postgres/migrations/index';
