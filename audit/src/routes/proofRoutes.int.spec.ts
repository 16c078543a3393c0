import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticate, createTokenVerifier } from '@fitledger/auth';
import { createService } from '@fitledger/http';
import { signTestToken, startDevOidcProvider, type DemoUsername, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint, type VerifiedCheckpoint } from '../checkpoint';
import { DirectoryCheckpointSink } from '../checkpointStore';
import { leafHash, verifyConsistency, verifyInclusion, type Hash } from '../merkle';
import { migrateAuditSchema } from '../postgres/migrations/index';
import { appendLeaves, type AuditLeaf } from '../postgres/postgresAuditTree';
import { publishCheckpoint } from '../publisher';
import { openSigningKeyring, type SigningKeyring } from '../signingKeyring';
import { random } from '../testing/auditFixtures';
import { auditProofRoutes } from './proofRoutes';

const ORIGIN = 'fitledger.test/audit';
const PREFIX = '/api/v1/audit';
let oidc: DevOidcProvider;
let dir: string;
let keyring: SigningKeyring;
const closers: (() => Promise<void>)[] = [];

interface ProofFixture {
  readonly app: FastifyInstance;
  readonly pool: pg.Pool;
  readonly hashes: Hash[];
  readonly sink: DirectoryCheckpointSink;
}

/** A minimal service: the proof routes mounted as query-service mounts them, behind `authenticate`. */
async function proofApp(): Promise<ProofFixture> {
  const db = await testDatabase('audit_proofs');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await migrateAuditSchema(pool);
  const app = createService();
  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience })));
    await api.register(auditProofRoutes, { prefix: PREFIX, db: pool });
  });
  await app.ready();
  closers.push(async () => {
    await app.close();
    await pool.end();
    await db.drop();
  });
  return { app, pool, hashes: [], sink: new DirectoryCheckpointSink(await mkdtemp(join(dir, 'checkpoints-'))) };
}

async function grow(fixture: ProofFixture, count: number): Promise<void> {
  const leaves: AuditLeaf[] = Array.from({ length: count }, (_, i) => {
    const ref = `entry-${fixture.hashes.length + i}`;
    return { kind: 'access', ref, leafHash: leafHash(Buffer.from(ref)) };
  });
  const client = await fixture.pool.connect();
  try {
    await client.query('BEGIN');
    await appendLeaves(client, leaves);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  fixture.hashes.push(...leaves.map((leaf) => leaf.leafHash));
}

function token(username: DemoUsername): Promise<string> {
  return signTestToken(oidc.accessTokenClaims(username), { privateKey: oidc.signingKey });
}

async function get(app: FastifyInstance, url: string, username?: DemoUsername): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = username === undefined ? {} : { authorization: `Bearer ${await token(username)}` };
  const response = await app.inject({ method: 'GET', url: `${PREFIX}${url}`, headers });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

const b64 = (text: unknown): Buffer => Buffer.from(String(text), 'base64');

beforeAll(async () => {
  oidc = await startDevOidcProvider();
  dir = await mkdtemp(join(tmpdir(), 'fitledger-proofs-'));
  keyring = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'secret', 'key.pem'), publicKeysFile: join(dir, 'keys.json'), createIfMissing: true });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await oidc?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the audit proof API', () => {
  let fixture: ProofFixture;
  let older: VerifiedCheckpoint;
  let latest: VerifiedCheckpoint;

  beforeAll(async () => {
    fixture = await proofApp();
    await grow(fixture, 300);
    const first = await publishCheckpoint({ pool: fixture.pool, keyring, sink: fixture.sink });
    await grow(fixture, 725);
    await publishCheckpoint({ pool: fixture.pool, keyring, sink: fixture.sink });
    // Entries past the last checkpoint: proofs are asked at a checkpoint's size, not the tree's.
    await grow(fixture, 40);
    older = verifyCheckpoint(first?.note ?? '', keyring.verifierKeys(), ORIGIN);
    const { body } = await get(fixture.app, '/checkpoints/latest', 'auditor');
    latest = verifyCheckpoint(String(body['note']), keyring.verifierKeys(), ORIGIN);
  });

  it('serves the latest signed checkpoint with its fields', async () => {
    const { status, body } = await get(fixture.app, '/checkpoints/latest', 'auditor');
    expect(status).toBe(200);
    expect(latest.size).toBe(1025);
    expect(body).toMatchObject({ origin: ORIGIN, size: 1025, rootHash: Buffer.from(latest.rootHash).toString('base64'), timestamp: latest.timestamp.toISOString() });
    expect(Date.parse(String(body['publishedAt']))).not.toBeNaN();
  });

  it('answers inclusion proofs that verify against the roots of the signed checkpoints', async () => {
    const next = random(11);
    const seqs = [0, 1, 299, 300, 511, 512, 1023, 1024, ...Array.from({ length: 24 }, () => Math.floor(next() * 1025))];
    for (const seq of seqs) {
      const { status, body } = await get(fixture.app, `/proofs/inclusion?seq=${seq}&size=${latest.size}`, 'auditor');
      expect(status).toBe(200);
      const leaf = fixture.hashes[seq] as Hash;
      expect(b64(body['leafHash']).equals(leaf)).toBe(true);
      const path = (body['auditPath'] as string[]).map(b64);
      expect(verifyInclusion(leaf, seq, latest.size, path, latest.rootHash)).toBe(true);
      // The same proof does not hold for another entry.
      expect(verifyInclusion(leafHash(Buffer.from('another')), seq, latest.size, path, latest.rootHash)).toBe(false);
    }
    const old = await get(fixture.app, `/proofs/inclusion?seq=17&size=${older.size}`, 'platform-admin');
    expect(old.status).toBe(200);
    expect(verifyInclusion(fixture.hashes[17] as Hash, 17, older.size, (old.body['auditPath'] as string[]).map(b64), older.rootHash)).toBe(true);
  });

  it('answers consistency proofs between the signed checkpoints', async () => {
    const { status, body } = await get(fixture.app, `/proofs/consistency?from=${older.size}&to=${latest.size}`, 'auditor');
    expect(status).toBe(200);
    expect(b64(body['fromRootHash']).equals(older.rootHash)).toBe(true);
    expect(b64(body['toRootHash']).equals(latest.rootHash)).toBe(true);
    const proof = (body['proof'] as string[]).map(b64);
    expect(verifyConsistency(older.size, latest.size, older.rootHash, latest.rootHash, proof)).toBe(true);
    expect(verifyConsistency(older.size, latest.size, leafHash(Buffer.from('forged root')), latest.rootHash, proof)).toBe(false);
    // Equal sizes: the empty proof.
    const same = await get(fixture.app, `/proofs/consistency?from=${latest.size}&to=${latest.size}`, 'auditor');
    expect(same.body['proof']).toEqual([]);
  });

  it('serves auditors and platform admins only: 403 for every other role, 401 without a token', async () => {
    const urls = ['/checkpoints/latest', '/proofs/inclusion?seq=3&size=300', '/proofs/consistency?from=10&to=300'];
    const expected: Record<DemoUsername, number> = { alice: 403, bob: 403, coach: 403, 'coach-nomfa': 403, 'org-admin': 403, researcher: 403, auditor: 200, 'platform-admin': 200 };
    for (const url of urls) {
      const actual: Record<string, number> = {};
      for (const username of Object.keys(expected) as DemoUsername[]) actual[username] = (await get(fixture.app, url, username)).status;
      expect(actual).toEqual(expected);
      const anonymous = await get(fixture.app, url);
      expect(anonymous.status).toBe(401);
    }
    const refused = await get(fixture.app, '/proofs/inclusion?seq=3&size=300', 'alice');
    expect(refused.body).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
  });

  it('refuses sizes and indexes the tree does not hold with a 400 naming the parameter', async () => {
    const tree = fixture.hashes.length;
    const cases: [string, string][] = [
      [`/proofs/inclusion?seq=300&size=300`, '/querystring/seq'],
      [`/proofs/inclusion?seq=5000&size=300`, '/querystring/seq'],
      [`/proofs/inclusion?seq=0&size=${tree + 1}`, '/querystring/size'],
      [`/proofs/inclusion?seq=0&size=0`, '/querystring/size'],
      [`/proofs/inclusion?seq=-1&size=10`, '/querystring/seq'],
      [`/proofs/inclusion?seq=1.5&size=10`, '/querystring/seq'],
      [`/proofs/inclusion?seq=1&size=99999999999999999999`, '/querystring/size'],
      [`/proofs/inclusion?seq=1`, '/querystring/size'],
      [`/proofs/inclusion?seq=1&size=10&extra=1`, '/querystring/extra'],
      [`/proofs/consistency?from=301&to=300`, '/querystring/from'],
      [`/proofs/consistency?from=1&to=${tree + 1}`, '/querystring/to'],
      [`/proofs/consistency?from=abc&to=10`, '/querystring/from'],
    ];
    for (const [url, field] of cases) {
      const { status, body } = await get(fixture.app, url, 'auditor');
      expect({ url, status, field: (body['errors'] as { field: string }[] | undefined)?.[0]?.field }).toEqual({ url, status: 400, field });
      expect(body['code']).toBe('VALIDATION_FAILED');
    }
  });
});

describe('the audit proof API before the first checkpoint', () => {
  it('answers 404 for the latest checkpoint', async () => {
    const fixture = await proofApp();
    const { status, body } = await get(fixture.app, '/checkpoints/latest', 'auditor');
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'NO_CHECKPOINT' });
  });
});
