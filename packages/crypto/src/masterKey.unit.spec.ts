import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterKeyConfigError } from './errors';
import { generateMasterKeyBase64, loadMasterKey, loadMasterKeyRing, masterKeyFromBytes } from './masterKey';

function configError(fn: () => unknown): MasterKeyConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MasterKeyConfigError) return error;
    throw error;
  }
  throw new Error('expected a MasterKeyConfigError');
}

const noFiles = (path: string): string => {
  throw new Error(`no file ${path}`);
};

describe('master key', () => {
  it('loads base64 of 32 bytes from FITLEDGER_MASTER_KEY', () => {
    const bytes = randomBytes(32);
    const key = loadMasterKey({ FITLEDGER_MASTER_KEY: bytes.toString('base64') }, noFiles);
    expect(key.key.equals(bytes)).toBe(true);
  });

  it('loads the key from the file named by FITLEDGER_MASTER_KEY_FILE, ignoring the trailing newline', () => {
    const text = generateMasterKeyBase64();
    const key = loadMasterKey({ FITLEDGER_MASTER_KEY_FILE: '/run/secrets/master' }, (path) => {
      expect(path).toBe('/run/secrets/master');
      return `${text}\n`;
    });
    expect(key.key.toString('base64')).toBe(text);
  });

  it('names a key by 16 hex digits that are stable for the key and differ between keys', () => {
    const bytes = randomBytes(32);
    const a = masterKeyFromBytes(bytes);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(masterKeyFromBytes(Buffer.from(bytes)).id).toBe(a.id);
    expect(masterKeyFromBytes(randomBytes(32)).id).not.toBe(a.id);
  });

  it('fails with a message naming FITLEDGER_MASTER_KEY when no key is configured', () => {
    const error = configError(() => loadMasterKey({}, noFiles));
    expect(error.code).toBe('MASTER_KEY_CONFIG');
    expect(error.variable).toBe('FITLEDGER_MASTER_KEY');
    expect(error.message).toContain('FITLEDGER_MASTER_KEY');
  });

  it('fails naming the variable, without echoing the value, when the key is not 32 bytes', () => {
    const short = randomBytes(16).toString('base64');
    const error = configError(() => loadMasterKey({ FITLEDGER_MASTER_KEY: short }, noFiles));
    expect(error.message).toContain('FITLEDGER_MASTER_KEY');
    expect(error.message).not.toContain(short);
    const long = randomBytes(48).toString('base64');
    expect(configError(() => loadMasterKey({ FITLEDGER_MASTER_KEY: long }, noFiles)).variable).toBe('FITLEDGER_MASTER_KEY');
  });

  it('fails naming the variable when the value is not base64', () => {
    const error = configError(() => loadMasterKey({ FITLEDGER_MASTER_KEY: `${'*'.repeat(43)}=` }, noFiles));
    expect(error.variable).toBe('FITLEDGER_MASTER_KEY');
  });

  it('fails naming FITLEDGER_MASTER_KEY_FILE when the file holds no valid key or cannot be read', () => {
    const bad = configError(() => loadMasterKey({ FITLEDGER_MASTER_KEY_FILE: '/k' }, () => 'not a key'));
    expect(bad.variable).toBe('FITLEDGER_MASTER_KEY_FILE');
    expect(bad.message).toContain('FITLEDGER_MASTER_KEY_FILE');
    const missing = configError(() => loadMasterKey({ FITLEDGER_MASTER_KEY_FILE: '/k' }, noFiles));
    expect(missing.variable).toBe('FITLEDGER_MASTER_KEY_FILE');
  });

  it('refuses to guess when both variables are set', () => {
    const error = configError(() =>
      loadMasterKey({ FITLEDGER_MASTER_KEY: generateMasterKeyBase64(), FITLEDGER_MASTER_KEY_FILE: '/k' }, () => generateMasterKeyBase64()),
    );
    expect(error.message).toContain('FITLEDGER_MASTER_KEY_FILE');
  });
});

describe('master key ring', () => {
  const current = generateMasterKeyBase64();

  it('is the current key alone when no previous key is configured', () => {
    const ring = loadMasterKeyRing({ FITLEDGER_MASTER_KEY: current }, noFiles);
    expect(ring.current.key.toString('base64')).toBe(current);
    expect(ring.previous).toEqual([]);
  });

  it('adds the unwrap-only keys of both variables, deduplicated and without the current key', () => {
    const [a, b, c] = [generateMasterKeyBase64(), generateMasterKeyBase64(), generateMasterKeyBase64()];
    const files: Record<string, string> = { '/keys/b': `${b}\n`, '/keys/c': c, '/keys/current': current };
    const ring = loadMasterKeyRing(
      {
        FITLEDGER_MASTER_KEY: current,
        FITLEDGER_PREVIOUS_MASTER_KEYS: ` ${a}, ${b} ,,${current}`,
        FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/keys/b,/keys/c, /keys/current',
      },
      (path) => {
        const text = files[path];
        if (text === undefined) throw new Error(`no file ${path}`);
        return text;
      },
    );
    expect(ring.previous.map((k) => k.key.toString('base64')).sort()).toEqual([a, b, c].sort());
  });

  it('fails naming the variable and the entry, without echoing it, when an unwrap-only key is malformed', () => {
    const short = randomBytes(16).toString('base64');
    const inline = configError(() => loadMasterKeyRing({ FITLEDGER_MASTER_KEY: current, FITLEDGER_PREVIOUS_MASTER_KEYS: `${generateMasterKeyBase64()},${short}` }, noFiles));
    expect(inline.variable).toBe('FITLEDGER_PREVIOUS_MASTER_KEYS');
    expect(inline.message).toContain('entry 2');
    expect(inline.message).not.toContain(short);
    const missing = configError(() => loadMasterKeyRing({ FITLEDGER_MASTER_KEY: current, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/nope' }, noFiles));
    expect(missing.variable).toBe('FITLEDGER_PREVIOUS_MASTER_KEY_FILES');
    expect(missing.message).toContain('file 1');
    const bad = configError(() => loadMasterKeyRing({ FITLEDGER_MASTER_KEY: current, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/k' }, () => short));
    expect(bad.variable).toBe('FITLEDGER_PREVIOUS_MASTER_KEY_FILES');
  });

  it('still requires the current key', () => {
    expect(configError(() => loadMasterKeyRing({ FITLEDGER_PREVIOUS_MASTER_KEYS: current }, noFiles)).variable).toBe('FITLEDGER_MASTER_KEY');
  });
});
