import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ed25519NoteSigner, signCheckpoint } from './checkpoint';
import { CheckpointSinkError, DirectoryCheckpointSink } from './checkpointStore';
import { leafHash } from './merkle';

const ORIGIN = 'fitledger.test/audit';
const signer = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const dirs: string[] = [];
let dir: string;
let sink: DirectoryCheckpointSink;

function checkpoint(size: number, salt = ''): string {
  return signCheckpoint({ origin: ORIGIN, size, rootHash: leafHash(Buffer.from(`root ${size}${salt}`)), timestamp: new Date(Date.UTC(2024, 6, 1) + size) }, signer);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CheckpointSinkError) return error.code;
    throw error;
  }
  return undefined;
}

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), 'fitledger-audit-checkpoints-'));
  dirs.push(base);
  dir = join(base, 'checkpoints');
  sink = new DirectoryCheckpointSink(dir);
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('DirectoryCheckpointSink', () => {
  it('writes each checkpoint once, read-only, named by its zero-padded tree size', async () => {
    const note = checkpoint(42);
    const stored = await sink.publish(note);
    expect(stored).toEqual({ name: '00000000000000000042.checkpoint', size: 42, note });
    const path = join(dir, stored.name);
    expect(await readFile(path, 'utf8')).toBe(note);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    // No temporary file is left behind.
    expect(await readdir(dir)).toEqual([stored.name]);
  });

  it('refuses to overwrite a checkpoint, and keeps the first one', async () => {
    const first = checkpoint(42);
    await sink.publish(first);
    expect(await codeOf(sink.publish(checkpoint(42, 'forked')))).toBe('CHECKPOINT_EXISTS');
    expect((await sink.latest())?.note).toBe(first);
    // Publishing the very same bytes again (a retry) changes nothing and is not an error.
    await expect(sink.publish(first)).resolves.toMatchObject({ size: 42 });
  });

  it('refuses a checkpoint smaller than the latest: the log cannot shrink', async () => {
    await sink.publish(checkpoint(100));
    expect(await codeOf(sink.publish(checkpoint(99)))).toBe('LOG_SHRANK');
    expect((await sink.list()).map((c) => c.size)).toEqual([100]);
  });

  it('lists checkpoints by tree size, numerically, ignoring other files', async () => {
    for (const size of [0, 9, 10, 99, 100, 1_000_000]) await sink.publish(checkpoint(size));
    await writeFile(join(dir, 'README'), 'not a checkpoint');
    expect((await sink.list()).map((c) => c.size)).toEqual([0, 9, 10, 99, 100, 1_000_000]);
    expect((await sink.latest())?.size).toBe(1_000_000);
  });

  it('is empty when its folder does not exist yet', async () => {
    expect(await sink.list()).toEqual([]);
    expect(await sink.latest()).toBeUndefined();
  });

  it('refuses text that is not a signed checkpoint', async () => {
    expect(await codeOf(sink.publish('hello\n'))).toBe('MALFORMED_CHECKPOINT');
  });
});
