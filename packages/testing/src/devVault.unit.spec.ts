import { describe, expect, it } from 'vitest';
import { devServerArgs, findVaultCli, OutputTail, policyForMount } from './devVault';

describe('findVaultCli', () => {
  const executables = (...paths: string[]) => (path: string) => paths.includes(path);
  const noUserBase = (): undefined => undefined;

  it('takes VAULT_CLI first, even when vault and bao are on PATH', () => {
    const found = findVaultCli({
      env: { VAULT_CLI: '/opt/openbao/bao', PATH: '/usr/bin' },
      isExecutable: executables('/opt/openbao/bao', '/usr/bin/vault', '/usr/bin/bao'),
      pythonUserBase: noUserBase,
    });
    expect(found).toBe('/opt/openbao/bao');
  });

  it('looks a VAULT_CLI without a slash up on PATH', () => {
    const found = findVaultCli({ env: { VAULT_CLI: 'bao', PATH: '/a:/b' }, isExecutable: executables('/b/bao'), pythonUserBase: noUserBase });
    expect(found).toBe('/b/bao');
  });

  it('refuses a VAULT_CLI that names nothing executable instead of skipping the Vault tests', () => {
    expect(() => findVaultCli({ env: { VAULT_CLI: '/nowhere/bao', PATH: '/usr/bin' }, isExecutable: executables('/usr/bin/vault'), pythonUserBase: noUserBase })).toThrow(
      /VAULT_CLI=\/nowhere\/bao/,
    );
    expect(() => findVaultCli({ env: { VAULT_CLI: 'nothing', PATH: '/usr/bin' }, isExecutable: executables('/usr/bin/vault'), pythonUserBase: noUserBase })).toThrow(/VAULT_CLI=nothing/);
  });

  it('prefers vault to bao on PATH, and takes the first PATH entry that has one', () => {
    expect(findVaultCli({ env: { PATH: '/a:/b' }, isExecutable: executables('/a/bao', '/b/vault'), pythonUserBase: noUserBase })).toBe('/b/vault');
    expect(findVaultCli({ env: { PATH: '/a:/b' }, isExecutable: executables('/a/bao', '/b/bao'), pythonUserBase: noUserBase })).toBe('/a/bao');
  });

  it('ignores empty PATH entries rather than looking in the working directory', () => {
    expect(findVaultCli({ env: { PATH: '::/usr/bin:' }, isExecutable: executables('vault', 'bao'), pythonUserBase: noUserBase })).toBeUndefined();
  });

  it('falls back to the bao of pip install --user under the Python user base, asked only when PATH has none', () => {
    let asked = 0;
    const userBase = (): string => {
      asked++;
      return '/home/dev/.local';
    };
    expect(findVaultCli({ env: { PATH: '/usr/bin' }, isExecutable: executables('/home/dev/.local/bin/bao'), pythonUserBase: userBase })).toBe('/home/dev/.local/bin/bao');
    expect(asked).toBe(1);
    expect(findVaultCli({ env: { PATH: '/usr/bin' }, isExecutable: executables('/usr/bin/bao', '/home/dev/.local/bin/bao'), pythonUserBase: userBase })).toBe('/usr/bin/bao');
    expect(asked).toBe(1);
  });

  it('finds nothing when there is no CLI anywhere', () => {
    expect(findVaultCli({ env: { PATH: '/usr/bin' }, isExecutable: executables(), pythonUserBase: () => '/home/dev/.local' })).toBeUndefined();
    expect(findVaultCli({ env: {}, isExecutable: executables(), pythonUserBase: noUserBase })).toBeUndefined();
  });
});

describe('devServerArgs', () => {
  it('starts an in-memory dev server on loopback with the given root token, leaving ~/.vault-token alone', () => {
    expect(devServerArgs('tok', 18200)).toEqual(['server', '-dev', '-dev-root-token-id=tok', '-dev-listen-address=127.0.0.1:18200', '-dev-no-store-token']);
  });
});

describe('policyForMount', () => {
  const hcl = [
    'path "transit/keys/fitledger-subject-*" {',
    '  capabilities = ["create", "read", "update", "delete"]',
    '}',
    'path "transit/decrypt/fitledger-subject-*" { capabilities = ["update"] }',
    '# a comment about transit/export',
  ].join('\n');

  it('keeps the policy as written for the default mount', () => {
    expect(policyForMount(hcl, 'transit')).toBe(hcl);
  });

  it('moves every quoted transit/ path, and nothing else, to a nested mount', () => {
    const moved = policyForMount(hcl, 'fitledger/transit');
    expect(moved).toContain('path "fitledger/transit/keys/fitledger-subject-*"');
    expect(moved).toContain('path "fitledger/transit/decrypt/fitledger-subject-*"');
    expect(moved).not.toContain('"transit/');
    expect(moved).toContain('# a comment about transit/export');
  });

  it.each(['', '/transit', 'transit/', 'a/../sys', 'tran sit', 'x"y'])('refuses the mount %j', (mount) => {
    expect(() => policyForMount(hcl, mount)).toThrow(/transit mount/);
  });

  it('refuses a policy with no transit/ path to move, so a reworded file cannot yield an empty policy', () => {
    expect(() => policyForMount('path "kv/*" { capabilities = ["read"] }', 'transit')).toThrow(/no path under "transit\/"/);
  });
});

describe('OutputTail', () => {
  it('keeps the last lines of everything pushed, across chunk boundaries', () => {
    const tail = new OutputTail();
    tail.push('one\ntw');
    tail.push(Buffer.from('o\nthree\n'));
    expect(tail.lines(2)).toBe('two\nthree');
    expect(tail.lines()).toBe('one\ntwo\nthree');
  });

  it('holds at most maxChars and drops the line the limit cut', () => {
    const tail = new OutputTail(12);
    tail.push('first line\nsecond\nthird\n');
    expect(tail.lines()).toBe('third');
    const long = new OutputTail(5);
    long.push('abcdefghij');
    expect(long.lines()).toBe('fghij');
  });
});
