import { describe, expect, it } from 'vitest';
import { AuditConfigError, DEFAULT_CHECKPOINT_INTERVAL_MS, DEFAULT_PROJECTOR_INTERVAL_MS, loadAuditConfig } from './config';

describe('audit configuration', () => {
  it('projects every second and signs at most every 10 seconds by default', () => {
    const config = loadAuditConfig({});
    expect(config.projectorIntervalMs).toBe(DEFAULT_PROJECTOR_INTERVAL_MS);
    expect(config.checkpointIntervalMs).toBe(DEFAULT_CHECKPOINT_INTERVAL_MS);
    expect([DEFAULT_PROJECTOR_INTERVAL_MS, DEFAULT_CHECKPOINT_INTERVAL_MS]).toEqual([1_000, 10_000]);
  });

  it('reads AUDIT_PROJECTOR_INTERVAL_MS and AUDIT_CHECKPOINT_INTERVAL_MS', () => {
    const config = loadAuditConfig({ AUDIT_PROJECTOR_INTERVAL_MS: '250', AUDIT_CHECKPOINT_INTERVAL_MS: ' 60000 ' });
    expect(config.projectorIntervalMs).toBe(250);
    expect(config.checkpointIntervalMs).toBe(60_000);
  });

  it.each([
    ['AUDIT_PROJECTOR_INTERVAL_MS', '0'],
    ['AUDIT_PROJECTOR_INTERVAL_MS', '1.5'],
    ['AUDIT_PROJECTOR_INTERVAL_MS', '-100'],
    ['AUDIT_CHECKPOINT_INTERVAL_MS', 'soon'],
    ['AUDIT_CHECKPOINT_INTERVAL_MS', '86400000'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    let thrown: unknown;
    try {
      loadAuditConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuditConfigError);
    expect((thrown as AuditConfigError).variable).toBe(variable);
    expect((thrown as AuditConfigError).message).toContain(variable);
  });
});
