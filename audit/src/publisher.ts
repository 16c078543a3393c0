/**
 * The checkpoint publisher: signs the audit tree's head (size, root) whenever the tree has grown,
 * publishes the signed checkpoint to the external sink — the copy verifiers trust — and then keeps
 * a copy in `audit_checkpoints` for the HTTP API.
 *
 * It never signs a tree that does not extend the last published checkpoint: before signing it
 * checks a consistency proof from that checkpoint's signed root to the new root (RFC 9162
 * §2.1.4). A database rewritten behind the log's back therefore stops the publisher with
 * {@link AuditTreeForkError} instead of getting a fresh signature.
 */
import type pg from 'pg';
import { verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint';
import type { CheckpointSink } from './checkpointStore';
import { backgroundLoop, loggableError, silentAuditLogger, type AuditLogger } from './backgroundLoop';
import { equalHashes, verifyConsistency, type Hash } from './merkle';
import { PostgresTreeStore, type Queryable } from './postgres/postgresAuditTree';
import type { SigningKeyring } from './signingKeyring';
import { inTransaction } from './postgres/transaction';

/** The advisory lock publishers hold while they publish ('FLAU', 2), so two processes never race on the sink. */
export const CHECKPOINT_PUBLISHER_LOCK = Object.freeze({ classId: 0x464c4155, objId: 2 });

export interface CheckpointPublisherOptions {
  /** The database of the audit tree; one connection is held while a checkpoint is published. */
  readonly pool: pg.Pool;
  readonly keyring: SigningKeyring;
  /** Where checkpoints are published, outside the database (`AUDIT_CHECKPOINT_DIR`). */
  readonly sink: CheckpointSink;
  /** Shortest time between two checkpoints (default 10 s, `AUDIT_CHECKPOINT_INTERVAL_MS`). */
  readonly intervalMs?: number;
  readonly now?: () => Date;
  readonly logger?: AuditLogger;
}

/** A checkpoint this publisher signed and published. */
export interface PublishedCheckpoint {
  /** Its name in the sink. */
  readonly name: string;
  readonly size: number;
  readonly rootHash: Hash;
  readonly timestamp: Date;
  /** The signed note. */
  readonly note: string;
}

/** The tree in the database no longer extends the last published checkpoint: it was rewritten, truncated or restored from an old backup. */
export class AuditTreeForkError extends Error {
  readonly code = 'AUDIT_TREE_FORK';
  constructor(message: string) {
    super(message);
    this.name = 'AuditTreeForkError';
  }
}

export interface CheckpointPublisher {
  /** Publishes a checkpoint now if the tree grew since the last one; resolves with it (undefined: nothing new). */
  publishNow(): Promise<PublishedCheckpoint | undefined>;
  /** Stops the timer, then publishes a last checkpoint covering everything appended so far. */
  stop(): Promise<void>;
}

/** Starts publishing: once at start, then every `intervalMs` when the tree grew. */
export function startCheckpointPublisher(options: CheckpointPublisherOptions): CheckpointPublisher {
  const logger = options.logger ?? silentAuditLogger;
  const intervalMs = options.intervalMs ?? 10_000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError('intervalMs must be positive');
  const publish = async (): Promise<PublishedCheckpoint | undefined> => {
    const published = await publishCheckpoint(options);
    if (published !== undefined) logger.info({ checkpoint: published.name, size: published.size }, 'audit checkpoint published');
    return published;
  };
  const loop = backgroundLoop({
    intervalMs,
    tick: async () => {
      await publish();
    },
    onError: (error) => logger.error({ err: loggableError(error) }, error instanceof AuditTreeForkError ? 'AUDIT TREE DOES NOT EXTEND THE PUBLISHED CHECKPOINT: not signing' : 'audit checkpoint not published; retrying at the next interval'),
  });
  return {
    publishNow: () => loop.exclusive(publish),
    async stop() {
      await loop.stop();
      try {
        await publish();
      } catch (error) {
        logger.error({ err: loggableError(error) }, 'last audit checkpoint not published');
      }
    },
  };
}

/**
 * Signs and publishes the current tree head if it is larger than the last published checkpoint,
 * after checking that it extends it. Also copies the sink's latest checkpoint into
 * `audit_checkpoints` when a crash kept it from getting there.
 */
export async function publishCheckpoint(options: Pick<CheckpointPublisherOptions, 'pool' | 'keyring' | 'sink' | 'now'>): Promise<PublishedCheckpoint | undefined> {
  const { keyring, sink } = options;
  const now = options.now ?? (() => new Date());
  // Without a transaction id until the INSERT at the end: holding the lock costs nobody a snapshot.
  return inTransaction(options.pool, 'BEGIN', async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [CHECKPOINT_PUBLISHER_LOCK.classId, CHECKPOINT_PUBLISHER_LOCK.objId]);
    const tree = new PostgresTreeStore(client);
    const latest = await sink.latest();
    // The last published checkpoint must verify with our own keys: a sink someone else writes to is no anchor.
    const previous = latest === undefined ? undefined : verifyCheckpoint(latest.note, keyring.verifierKeys(), keyring.signer.name);
    if (previous !== undefined) await recordCheckpoint(client, previous);

    const size = await tree.size();
    if (previous !== undefined && size < previous.size) {
      throw new AuditTreeForkError(`the audit tree holds ${size} leaves, fewer than the ${previous.size} of the last published checkpoint`);
    }
    if (size === 0 || size === previous?.size) {
      // Nothing new to sign; still make sure the unchanged tree is the one that was signed.
      if (previous !== undefined && size > 0 && !equalHashes(await tree.rootAt(size), previous.rootHash)) {
        throw new AuditTreeForkError(`the audit tree's root at ${size} leaves is not the one signed in the last published checkpoint`);
      }
      return undefined;
    }
    const rootHash = await tree.rootAt(size);
    if (previous !== undefined) {
      const proof = await tree.consistencyProof(previous.size, size);
      if (!verifyConsistency(previous.size, size, previous.rootHash, rootHash, proof)) {
        throw new AuditTreeForkError(`the audit tree of ${size} leaves does not extend the last published checkpoint of ${previous.size} leaves`);
      }
    }
    // Verifiers require checkpoint times never to go backwards, whatever this machine's clock does.
    const clock = now();
    const timestamp = previous !== undefined && clock < previous.timestamp ? previous.timestamp : clock;
    const note = keyring.signCheckpoint({ size, rootHash, timestamp });
    const stored = await sink.publish(note);
    await recordCheckpoint(client, { size, rootHash, note });
    return { name: stored.name, size, rootHash, timestamp, note };
  });
}

async function recordCheckpoint(db: Queryable, checkpoint: Pick<VerifiedCheckpoint, 'size' | 'rootHash' | 'note'>): Promise<void> {
  await db.query('INSERT INTO audit_checkpoints (size, root_hash, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING', [checkpoint.size, Buffer.from(checkpoint.rootHash), checkpoint.note]);
}
