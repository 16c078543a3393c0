/**
 * Where signed checkpoints are published, outside the database that holds the log. A checkpoint
 * is evidence only if whoever can rewrite the log cannot also rewrite the checkpoints: in
 * production the directory is a mount the database host cannot write (WORM storage, another
 * machine, an object store with retention lock); locally it is a folder.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, parseCheckpointText } from './checkpoint';
import { createFileOnce, ensureDirectory } from './durableFiles';

/** A published checkpoint: its name in the sink, its tree size and the signed note as stored. */
export interface StoredCheckpoint {
  readonly name: string;
  readonly size: number;
  readonly note: string;
}

/** Port: an append-only place for signed checkpoints. Adapter: {@link DirectoryCheckpointSink}. */
export interface CheckpointSink {
  /**
   * Publishes a signed checkpoint. Refuses a second, different checkpoint of the same size and a
   * checkpoint smaller than the latest (the log never shrinks); the same bytes again are a no-op.
   */
  publish(note: string): Promise<StoredCheckpoint>;
  /** Every checkpoint, smallest tree first. */
  list(): Promise<StoredCheckpoint[]>;
  latest(): Promise<StoredCheckpoint | undefined>;
}

/** Why a checkpoint was not published; `code` is stable. */
export class CheckpointSinkError extends Error {
  constructor(
    readonly code: 'CHECKPOINT_EXISTS' | 'LOG_SHRANK' | 'MALFORMED_CHECKPOINT',
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointSinkError';
  }
}

/** 20 digits hold any 64-bit size, so names sort as numbers. */
const NAME = /^(\d{20})\.checkpoint$/;

export function checkpointFileName(size: number): string {
  return `${String(size).padStart(20, '0')}.checkpoint`;
}

/** The tree size a signed checkpoint states (signature not checked: that is the verifier's job). */
export function checkpointSizeOf(note: string): number {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new CheckpointSinkError('MALFORMED_CHECKPOINT', 'not a signed note');
  try {
    return parseCheckpointText(note.slice(0, split + 1)).size;
  } catch (error) {
    if (error instanceof CheckpointError) throw new CheckpointSinkError('MALFORMED_CHECKPOINT', error.message);
    throw error;
  }
}

/**
 * Checkpoints as files in one directory (`AUDIT_CHECKPOINT_DIR`), one per tree size, named by the
 * zero-padded size. Each file is written once — complete and fsynced before its name appears,
 * then read-only (0444) — and never replaced.
 */
export class DirectoryCheckpointSink implements CheckpointSink {
  constructor(readonly dir: string) {}

  async publish(note: string): Promise<StoredCheckpoint> {
    const size = checkpointSizeOf(note);
    await ensureDirectory(this.dir);
    const latest = await this.latest();
    if (latest !== undefined && size < latest.size) {
      throw new CheckpointSinkError('LOG_SHRANK', `a checkpoint of ${size} leaves after one of ${latest.size}: the log cannot shrink`);
    }
    const name = checkpointFileName(size);
    const path = join(this.dir, name);
    if (!(await createFileOnce(path, note, 0o444))) {
      const existing = await readFile(path, 'utf8');
      if (existing !== note) throw new CheckpointSinkError('CHECKPOINT_EXISTS', `${name} already holds another checkpoint of ${size} leaves; checkpoints are never replaced`);
    }
    return { name, size, note };
  }

  async list(): Promise<StoredCheckpoint[]> {
    const names = await this.names();
    return Promise.all(names.map((name) => this.read(name)));
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    const names = await this.names();
    const last = names[names.length - 1];
    return last === undefined ? undefined : this.read(last);
  }

  private async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((name) => NAME.test(name)).sort();
  }

  private async read(name: string): Promise<StoredCheckpoint> {
    const note = await readFile(join(this.dir, name), 'utf8');
    return { name, size: Number(NAME.exec(name)?.[1]), note };
  }
}
