/**
 * @fitledger/audit — the tamper-evident audit trail: an RFC 6962 Merkle tree over events and
 * access records, signed C2SP checkpoints published outside the database, inclusion and
 * consistency proofs, and the offline verifier.
 */
export {
  EMPTY_ROOT,
  HASH_SIZE,
  consistencyPlan,
  consistencyProof,
  equalHashes,
  extendFrontier,
  foldRange,
  inclusionPlan,
  inclusionProof,
  isHash,
  leafHash,
  merkleRoot,
  nodeHash,
  rangePlan,
  resolvePlans,
  rootAt,
  rootPlan,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from './merkle';
export type { Hash, NodeRef, NodeSource, RangePlan, StoredNode } from './merkle';
export { MemoryMerkleTree } from './memoryMerkleTree';

export { LEAF_KIND_TAG, InvalidLogEntryError, accessLeaf, auditedEvent, entryRef, eventLeaf, leafBytes, parseAccessRecord, parseAuditedEvent } from './leaf';
export type { AccessAction, AccessOutcome, AccessRecord, AuditedEvent, LeafKind, LogEntry } from './leaf';

export {
  CheckpointError,
  checkpointText,
  ed25519NoteSigner,
  encodeVerifierKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseCheckpointText,
  parseVerifierKey,
  rawEd25519PublicKey,
  signCheckpoint,
  signNote,
  verifierKeyOf,
  verifyCheckpoint,
} from './checkpoint';
export type { Checkpoint, NoteErrorCode, NoteSigner, NoteVerifierKey, OpenedNote, VerifiedCheckpoint } from './checkpoint';

export { PUBLIC_KEYS_FORMAT, SigningKeyError, SigningKeyring, openSigningKeyring, parsePublicKeysDocument, readVerifierKeys, rotateSigningKey } from './signingKeyring';
export type { PublicKeysDocument, PublishedKey, SigningKeyringOptions } from './signingKeyring';

export { CheckpointSinkError, DirectoryCheckpointSink, checkpointFileName, checkpointSizeOf } from './checkpointStore';
export type { CheckpointSink, StoredCheckpoint } from './checkpointStore';

export {
  AuditConfigError,
  DEFAULT_AUDIT_ORIGIN,
  DEFAULT_CHECKPOINT_DIR,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_PROJECTOR_INTERVAL_MS,
  DEFAULT_PUBLIC_KEYS_FILE,
  DEFAULT_SIGNING_KEY_FILE,
  loadAuditConfig,
} from './config';
export type { AuditConfig } from './config';

export { exportLine, parseExportLine } from './exportLine';
export type { ExportLine } from './exportLine';

export { verifyLog } from './verifyLog';
export type { CheckpointReport, CheckpointStatus, VerifyFailure, VerifyFailureCode, VerifyLogInput, VerifyLogResult } from './verifyLog';

export { ConcurrentAppendError, PostgresTreeStore, appendLeaves, auditLeaf } from './postgres/postgresAuditTree';
export type { AuditLeaf, Queryable, StoredLeaf } from './postgres/postgresAuditTree';
export { AUDIT_MIGRATION_LOCK_TABLE, AUDIT_MIGRATION_TABLE, auditMigrations, migrateAuditSchema } from './postgres/migrations/index';

// Filling, signing and reading the tree: the projector, the checkpoint publisher, the export and the proof API.
export { AccessSeqGaps, AUDIT_PROJECTOR_LOCK, DEFAULT_PROJECTOR_BATCH_SIZE, projectAuditBatch, startAuditProjector } from './projector';
export type { AuditProjector, AuditProjectorOptions, BatchOutcome, ProjectedBatch } from './projector';
export { AuditTreeForkError, CHECKPOINT_PUBLISHER_LOCK, publishCheckpoint, startCheckpointPublisher } from './publisher';
export type { CheckpointPublisher, CheckpointPublisherOptions, PublishedCheckpoint } from './publisher';
export { startAuditTrail } from './auditTrail';
export type { AuditTrailDeps, RunningAuditTrail } from './auditTrail';
export { exportLog } from './export';
export type { ExportOptions, ExportSummary, MissingEntry } from './export';
export { auditProofRoutes } from './routes/proofRoutes';
export type { AuditProofRoutesDeps } from './routes/proofRoutes';
export { loggableError } from './backgroundLoop';
export type { AuditLogger } from './backgroundLoop';

// The access log: records of every PHI read, denial and administrative action (see accessLog/).
export * from './accessLog/index';
