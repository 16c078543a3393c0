/** @fitledger/query-service: REST reads of the read models and live websocket feeds. */
export { API_PREFIX, buildApp, type QueryServiceDeps } from './buildApp';
export type { ChangeListener, ChangeSource, CommittedChanges, InProcessChangeSource } from './feed/changeSource';
export { inProcessChangeSource } from './feed/changeSource';
export { startPgListenChangeSource, type PgListenChangeSource, type PgListenChangeSourceOptions } from './feed/pgListenChangeSource';
export type { FeedMessage } from './feed/feedMessage';
export type { FeedOptions } from './routes/feed';
export { ownDataOnly, type ReadScope, type ReadScopeResolver } from './readScope';
export { READER_ROLE, rowSecurityPool, withReadScope, type ReadModelPool, type RowSecuritySettings } from './rowLevelSecurity';
export { eventStoreConsentReader, consentReaderOnPool, type ConsentReader } from './access/consentReader';
export { CONSENT_VERSION_HEADER, EMERGENCY_ACCESS_HEADER } from './access/clientRoutes';
export { loadQueryServiceConfig, QueryServiceConfigError, type QueryServiceConfig } from './config';
export { startQueryService, type RunningQueryService, type StartQueryServiceOptions } from './queryService';
export { searchExercises, suggestExercises, findExercise, type SearchParams, type ExerciseFilters } from './exercises/exerciseLibrary';
