import { describe, expect, it } from 'vitest';
import { DEFAULT_COALESCE_MS, ProjectionsConfigError, loadProjectionsConfig } from './projectionsService';

function configError(env: Record<string, string | undefined>): ProjectionsConfigError {
  try {
    loadProjectionsConfig(env);
  } catch (error) {
    if (error instanceof ProjectionsConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

const KEY = Buffer.alloc(32, 7).toString('base64');
const PREVIOUS = Buffer.alloc(32, 8).toString('base64');

describe('projections configuration', () => {
  it('fails naming DATABASE_URL when it is missing', () => {
    const error = configError({ FITLEDGER_MASTER_KEY: KEY });
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).toContain('DATABASE_URL');
  });

  it('fails naming FITLEDGER_MASTER_KEY when it is missing or malformed', () => {
    for (const value of [undefined, 'not-base64']) {
      const error = configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: value });
      expect(error.variable).toBe('FITLEDGER_MASTER_KEY');
      expect(error.message).toContain('FITLEDGER_MASTER_KEY');
    }
  });

  it('fails naming the key store variable that is wrong', () => {
    const base = { DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY };
    expect(configError({ ...base, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/missing/master.previous.key' }).variable).toBe('FITLEDGER_PREVIOUS_MASTER_KEY_FILES');
    expect(configError({ ...base, KEY_STORE: 'hsm' }).variable).toBe('KEY_STORE');
    expect(configError({ ...base, KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200' }).variable).toBe('VAULT_TOKEN');
  });

  it('reads the unwrap-only master keys of a rotation, or the Vault key store', () => {
    const local = loadProjectionsConfig(
      { DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/keys/master.previous.key' },
      (path) => (path === '/keys/master.previous.key' ? `${PREVIOUS}\n` : ''),
    );
    if (local.keyStore.kind !== 'local') throw new Error('expected the local key store');
    expect(local.keyStore.masterKeys.current.key.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(local.keyStore.masterKeys.previous.map((k) => k.key.equals(Buffer.alloc(32, 8)))).toEqual([true]);
    const vault = loadProjectionsConfig({ DATABASE_URL: 'postgres://localhost/x', KEY_STORE: 'vault', VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 'hvs.t' });
    expect(vault.keyStore).toEqual({ kind: 'vault', vault: { address: 'http://127.0.0.1:8200', token: 'hvs.t', transitMount: 'transit' } });
  });

  it('rejects a batch size that is not a positive integer', () => {
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_BATCH_SIZE: '0' }).variable).toBe('PROJECTIONS_BATCH_SIZE');
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_REBUILD_BATCH_SIZE: '1.5' }).variable).toBe('PROJECTIONS_REBUILD_BATCH_SIZE');
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_REBUILD_BATCH_SIZE: '20000' }).variable).toBe('PROJECTIONS_REBUILD_BATCH_SIZE');
  });

  it('reads the live batch interval, 0 to 1000 ms', () => {
    const base = { DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY };
    expect(loadProjectionsConfig({ ...base, PROJECTIONS_COALESCE_MS: '0' }).coalesceMs).toBe(0);
    expect(loadProjectionsConfig({ ...base, PROJECTIONS_COALESCE_MS: '1000' }).coalesceMs).toBe(1_000);
    for (const bad of ['-1', '1001', '2.5', 'soon']) expect(configError({ ...base, PROJECTIONS_COALESCE_MS: bad }).variable).toBe('PROJECTIONS_COALESCE_MS');
    expect(loadProjectionsConfig(base).feedRetentionDays).toBe(30);
    expect(loadProjectionsConfig({ ...base, FEED_RETENTION_DAYS: '0' }).feedRetentionDays).toBe(0);
    expect(loadProjectionsConfig({ ...base, FEED_RETENTION_DAYS: '3650' }).feedRetentionDays).toBe(3_650);
    for (const bad of ['-1', '3651', '1.5', 'month']) expect(configError({ ...base, FEED_RETENTION_DAYS: bad }).variable).toBe('FEED_RETENTION_DAYS');
  });

  it('reads a complete configuration with the default batch size', () => {
    const config = loadProjectionsConfig({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY });
    expect(config).toMatchObject({ databaseUrl: 'postgres://localhost/x', batchSize: 500, rebuildBatchSize: 5_000, coalesceMs: DEFAULT_COALESCE_MS });
    expect(Object.isFrozen(config)).toBe(true);
  });
});
