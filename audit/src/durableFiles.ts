/**
 * File writes that survive a crash or power loss at any point: the content is fsynced before the
 * name appears, and the directory is fsynced after, so a name never points at a partial file.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a directory entry change (create, rename, link) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeTemporary(dir: string, name: string, content: string | Buffer, mode: number): Promise<string> {
  const temporary = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': a fresh file of our own, never someone else's (or a symlink planted in its place).
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  // The mode given to open() is filtered by the umask; set it exactly.
  await chmod(temporary, mode);
  return temporary;
}

/**
 * Creates `path` with `content` unless it exists; returns false (and changes nothing) when it
 * does. The name appears atomically with the complete content: the file is written under a
 * temporary name and hard-linked, and link() refuses an existing target.
 */
export async function createFileOnce(path: string, content: string | Buffer, mode: number): Promise<boolean> {
  const dir = dirname(path);
  const temporary = await writeTemporary(dir, basename(path), content, mode);
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await fsyncDirectory(dir);
  return true;
}

/** Replaces `path` with `content` atomically (write, fsync, rename, fsync the directory). */
export async function replaceFile(path: string, content: string | Buffer, mode: number): Promise<void> {
  const dir = dirname(path);
  const temporary = await writeTemporary(dir, basename(path), content, mode);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dir);
}

/** Creates a directory (and its parents) readable by its owner only, when missing. */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function ensureDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
}
