import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateMasterKey, MasterKeyMissingError, rotationKeyFiles } from '../src/localState';

// The key files npm start keeps in .fitledger/, on a real file system.

const KEY = Buffer.alloc(32, 3).toString('base64');

describe('npm start master key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fitledger-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates master.key (mode 0600) on the first start and reads it afterwards', () => {
    const file = join(dir, 'master.key');
    const key = loadOrCreateMasterKey(file);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateMasterKey(file)).toBe(key);
  });

  it.each(['master.previous.key', 'master.next.key'])('refuses to create a new master.key while %s of a rotation exists', (name) => {
    writeFileSync(join(dir, name), `${KEY}\n`);
    const file = join(dir, 'master.key');
    expect(() => loadOrCreateMasterKey(file)).toThrow(MasterKeyMissingError);
    expect(() => loadOrCreateMasterKey(file)).toThrow(new RegExp(`master\\.key is missing.*${name.replace(/\./g, '\\.')}`));
    expect(existsSync(file)).toBe(false);
    // Positive control: with master.key in place the rotation file is no obstacle.
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    expect(loadOrCreateMasterKey(file)).toBe(KEY);
    expect(readFileSync(join(dir, name), 'utf8')).toBe(`${KEY}\n`);
  });

  it('lists the rotation files beside master.key that exist, previous before next, as the rotation CLI names them', () => {
    const file = join(dir, 'master.key');
    expect(rotationKeyFiles(file)).toEqual([]);
    writeFileSync(join(dir, 'master.next.key'), `${KEY}\n`);
    expect(rotationKeyFiles(file)).toEqual([join(dir, 'master.next.key')]);
    writeFileSync(join(dir, 'master.previous.key'), `${KEY}\n`);
    expect(rotationKeyFiles(file)).toEqual([join(dir, 'master.previous.key'), join(dir, 'master.next.key')]);
  });
});
