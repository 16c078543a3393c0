import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findVaultCli, FITLEDGER_KEYS_POLICY, startDevVault, type DevVault } from './devVault';

/** Vault's HTTP API, not through the fixture under test. */
async function api(address: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${address}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const cli = findVaultCli();
/** Creating a Transit key: Vault answers 204, OpenBao 200 with the key's settings. */
const CREATED = [200, 204];

describe.skipIf(!cli)('startDevVault against the vault or bao CLI found on this machine', () => {
  let vault: DevVault;

  beforeAll(async () => {
    vault = await startDevVault({ ...(cli ? { cli } : {}) });
  });

  afterAll(async () => {
    await vault?.stop();
  });

  it('serves an unsealed, active server on loopback with Transit mounted at transit/', async () => {
    expect(vault.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${vault.address}/v1/sys/health`)).status).toBe(200);
    const mount = await api(vault.address, vault.rootToken, 'GET', 'sys/mounts/transit');
    expect(mount.status).toBe(200);
    expect(mount.json).toMatchObject({ data: { type: 'transit' } });
  });

  it('hands out a service token whose only policy is fitledger-keys, with the policy file as written', async () => {
    const lookup = await api(vault.address, vault.rootToken, 'POST', 'auth/token/lookup', { token: vault.serviceToken });
    expect(lookup.status).toBe(200);
    expect((lookup.json as { data: { policies: string[] } }).data.policies).toEqual([FITLEDGER_KEYS_POLICY]);
    const policy = await api(vault.address, vault.rootToken, 'GET', `sys/policies/acl/${FITLEDGER_KEYS_POLICY}`);
    expect((policy.json as { data: { policy: string } }).data.policy).toContain('path "transit/datakey/plaintext/fitledger-subject-*"');
  });

  it('lets the service token create a subject key but nothing outside the policy, where the root token may', async () => {
    const name = `fitledger-subject-${randomBytes(6).toString('hex')}`;
    const settings = { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false };
    expect((await api(vault.address, vault.serviceToken, 'POST', `transit/keys/${name}`, settings)).status).toBeOneOf(CREATED);

    const other = `other-${randomBytes(6).toString('hex')}`;
    expect((await api(vault.address, vault.serviceToken, 'POST', `transit/keys/${other}`, settings)).status).toBe(403);
    expect((await api(vault.address, vault.rootToken, 'POST', `transit/keys/${other}`, settings)).status).toBeOneOf(CREATED);
    expect((await api(vault.address, vault.serviceToken, 'GET', 'sys/mounts')).status).toBe(403);
    expect((await api(vault.address, vault.rootToken, 'GET', 'sys/mounts')).status).toBe(200);
    // No default policy either: not even a look at its own token.
    expect((await api(vault.address, vault.serviceToken, 'GET', 'auth/token/lookup-self')).status).toBe(403);
    expect((await api(vault.address, vault.rootToken, 'GET', 'auth/token/lookup-self')).status).toBe(200);
  });

  it('mounts Transit and moves the policy to a nested mount, and stop() ends the server and frees its port', async () => {
    const nested = await startDevVault({ ...(cli ? { cli } : {}), transitMount: 'fitledger/transit' });
    try {
      const name = `fitledger-subject-${randomBytes(6).toString('hex')}`;
      const created = await api(nested.address, nested.serviceToken, 'POST', `fitledger/transit/keys/${name}`, { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false });
      expect(created.status).toBeOneOf(CREATED);
    } finally {
      await nested.stop();
    }
    expect(isRunning(nested.pid)).toBe(false);
    await expect(fetch(`${nested.address}/v1/sys/health`)).rejects.toThrow();
    await nested.stop(); // a second stop is harmless
  });
});

describe('startDevVault when the server does not come up', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitledger-devvault-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('fails with the end of the server stderr when it exits at once', async () => {
    const failing = await script('exits', 'echo "starting" >&2\necho "Error initializing listener: permission denied" >&2\nexit 1');
    await expect(startDevVault({ cli: failing })).rejects.toThrow(/exited before answering \(code 1\).*\n.*starting\nError initializing listener: permission denied/s);
  });

  it('gives up after the bounded wait and ends the whole process group, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const hanging = await script('hangs', `sleep 300 &\necho $! > ${pidFile}\necho "still starting" >&2\nwait`);
    await expect(startDevVault({ cli: hanging, readyTimeoutMs: 1_000 })).rejects.toThrow(/did not answer GET \/v1\/sys\/health .* within 1000 ms; its stderr ended with:\nstill starting/);
    const sleeper = Number((await readFile(pidFile, 'utf8')).trim());
    expect(isRunning(sleeper)).toBe(false);
  });
});

describe('the int tier global setup', () => {
  const started = inject('devVault');

  // Guards the hand-over to the workers: were it lost, the Vault key store suite would be skipped, not fail.
  it.runIf(started)('gives the workers VAULT_ADDR and the service token of the dev Vault it started', async () => {
    expect(process.env['VAULT_ADDR']).toBe(started?.address);
    expect(process.env['VAULT_TRANSIT_MOUNT']).toBe(started?.transitMount);
    const token = process.env['VAULT_TOKEN'] ?? '';
    const name = `fitledger-subject-${randomBytes(6).toString('hex')}`;
    const settings = { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false };
    expect((await api(started?.address ?? '', token, 'POST', `${started?.transitMount ?? ''}/keys/${name}`, settings)).status).toBeOneOf(CREATED);
    expect((await api(started?.address ?? '', token, 'GET', 'sys/mounts')).status).toBe(403);
    // The suites share this server: leave no key behind.
    expect((await api(started?.address ?? '', token, 'POST', `${started?.transitMount ?? ''}/keys/${name}/config`, { deletion_allowed: true })).status).toBeOneOf([200, 204]);
    expect((await api(started?.address ?? '', token, 'DELETE', `${started?.transitMount ?? ''}/keys/${name}`)).status).toBe(204);
  });
});
