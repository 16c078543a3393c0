import type { EventStore } from '@fitledger/event-store';
import type pg from 'pg';
import type { AuditLogger } from './backgroundLoop';
import { DirectoryCheckpointSink } from './checkpointStore';
import type { AuditConfig } from './config';
import { startAuditProjector, type AuditProjector } from './projector';
import { startCheckpointPublisher, type CheckpointPublisher } from './publisher';
import { openSigningKeyring } from './signingKeyring';

export interface AuditTrailDeps {
  /** The database of the event store, the access log and the audit tree (at least 3 connections, 4 for headroom: the projector holds one per batch and reads with another, the publisher holds one). */
  readonly pool: pg.Pool;
  readonly events: Pick<EventStore, 'readAll'>;
  readonly config: AuditConfig;
  readonly logger?: AuditLogger;
}

/** The running audit trail: the projector filling the tree, the publisher signing its head. */
export interface RunningAuditTrail {
  readonly projector: AuditProjector;
  readonly publisher: CheckpointPublisher;
  /** Stops the projector (after its running batch), then the publisher (after a last checkpoint covering it all). */
  stop(): Promise<void>;
}

/** Opens the signing keyring and starts the audit projector and the checkpoint publisher (schema migrated already). */
export async function startAuditTrail(deps: AuditTrailDeps): Promise<RunningAuditTrail> {
  const { config } = deps;
  const keyring = await openSigningKeyring({ name: config.origin, signingKeyFile: config.signingKeyFile, publicKeysFile: config.publicKeysFile, createIfMissing: config.createSigningKey });
  const projector = startAuditProjector({ pool: deps.pool, events: deps.events, intervalMs: config.projectorIntervalMs, ...(deps.logger ? { logger: deps.logger } : {}) });
  const publisher = startCheckpointPublisher({ pool: deps.pool, keyring, sink: new DirectoryCheckpointSink(config.checkpointDir), intervalMs: config.checkpointIntervalMs, ...(deps.logger ? { logger: deps.logger } : {}) });
  return {
    projector,
    publisher,
    async stop() {
      await projector.stop();
      await publisher.stop();
    },
  };
}
