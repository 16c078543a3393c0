import { describe, expect, it } from 'vitest';
import { ProjectionsConfigError, loadProjectionsConfig } from './projectionsService';

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

  it('rejects a batch size that is not a positive integer', () => {
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_BATCH_SIZE: '0' }).variable).toBe('PROJECTIONS_BATCH_SIZE');
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_REBUILD_BATCH_SIZE: '1.5' }).variable).toBe('PROJECTIONS_REBUILD_BATCH_SIZE');
    expect(configError({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY, PROJECTIONS_REBUILD_BATCH_SIZE: '20000' }).variable).toBe('PROJECTIONS_REBUILD_BATCH_SIZE');
  });

  it('reads a complete configuration with the default batch size', () => {
    const config = loadProjectionsConfig({ DATABASE_URL: 'postgres://localhost/x', FITLEDGER_MASTER_KEY: KEY });
    expect(config).toMatchObject({ databaseUrl: 'postgres://localhost/x', batchSize: 500, rebuildBatchSize: 5_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });
});
