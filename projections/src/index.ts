export {
  ProjectionRunner,
  CheckpointMovedError,
  UnknownProjectionError,
  READ_MODEL_NOTIFY_CHANNEL,
  type Projection,
  type PreparedBatch,
  type ProjectionRunnerOptions,
  type ReadableEvent,
  type CommittedBatch,
  type CommitListener,
  type ProjectionLogger,
  type BatchTracer,
  type BatchTraceInfo,
  type EventDecoder,
} from './projectionRunner';
export { migrateReadModels, readModelMigrations, READ_MODEL_MIGRATION_TABLE, READ_MODEL_MIGRATION_LOCK_TABLE } from './migrations/index';
export type * from './readModelDb';
export { feedPayload } from './feedPayload';
export { workoutsProjection, WORKOUTS_PROJECTION } from './workouts/workoutsProjection';
export { bodyMeasurementsProjection, BODY_MEASUREMENTS_PROJECTION } from './bodyMetrics/bodyMeasurementsProjection';
export { profilesProjection, PROFILES_PROJECTION } from './profiles/profilesProjection';
export { templatesProjection, TEMPLATES_PROJECTION } from './templates/templatesProjection';
export { plansProjection, PLANS_PROJECTION } from './plans/plansProjection';
export { goalsProjection, GOALS_PROJECTION } from './goals/goalsProjection';
export { accessProjection, ACCESS_PROJECTION } from './access/accessProjection';
export { loadGoalFacts, goalWindow } from './goals/goalFacts';
export { exercisesProjection, EXERCISES_PROJECTION } from './exercises/exercisesProjection';
export { catalogExerciseId, readCatalog, seedExerciseCatalog, CATALOG_IMAGE_BASE_URL, type CatalogSourceEntry } from './exercises/exerciseCatalog';
export {
  loadProjectionsConfig,
  openProjectionsService,
  defaultProjections,
  readModelDb,
  ProjectionsConfigError,
  scheduleFeedRetention,
  DEFAULT_FEED_RETENTION_DAYS,
  type ProjectionsConfig,
  type ProjectionsService,
} from './projectionsService';
export { pruneFeed, feedRetentionHorizon, isBeforeHorizon, DEFAULT_PRUNE_BATCH, type FeedPruneResult } from './feedRetention';
export { lockFeedOrder, FEED_ORDER_LOCK } from './feedOrder';
