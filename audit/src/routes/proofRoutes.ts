import { requireIdentity, type Identity } from '@fitledger/auth';
import { HttpProblem } from '@fitledger/http';
import type { FastifyInstance } from 'fastify';
import { noteAccess } from '../accessLog/httpAccessLog';
import { CheckpointError, parseCheckpointText } from '../checkpoint';
import { PostgresTreeStore, type Queryable } from '../postgres/postgresAuditTree';

export interface AuditProofRoutesDeps {
  /** The database of the audit tree and `audit_checkpoints`. */
  readonly db: Queryable;
}

/** Who may ask: auditors and platform admins. Proofs hold hashes only, of the whole log (every organisation). */
const PROOF_ROLES: ReadonlySet<string> = new Set(['auditor', 'platform_admin']);
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

function requireProofRole(identity: Identity): void {
  if (!PROOF_ROLES.has(identity.role)) throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', 'only auditors and platform admins read audit proofs');
}

/** A 400 naming the query parameter, like a schema violation would. */
function outOfRange(field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', `/querystring/${field}: ${message}`, [{ field: `/querystring/${field}`, message }]);
}

const b64 = (hash: Uint8Array): string => Buffer.from(hash).toString('base64');
const hashSchema = { type: 'string', description: 'Base64 of a SHA-256 hash (32 bytes).', pattern: '^[A-Za-z0-9+/]{43}=$' } as const;
const sizeParam = (description: string, minimum = 0) => ({ type: 'integer', minimum, maximum: MAX_SEQ, description }) as const;
const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } } as const;
const NO_STORE = { 'cache-control': 'no-store' } as const;

/**
 * The audit tree's public evidence over HTTP (mount under /api/v1/audit with authentication):
 * the latest signed checkpoint, inclusion proofs (RFC 9162 §2.1.3) and consistency proofs
 * (§2.1.4). A client checks them against a checkpoint it verified itself — with the published
 * keys, not with this API's word. Usable as a fastify plugin or called on a scope.
 */
export function auditProofRoutes(app: FastifyInstance, deps: AuditProofRoutesDeps): Promise<void> {
  const tree = new PostgresTreeStore(deps.db);

  async function treeSizeAtLeast(size: number, field: string): Promise<void> {
    const current = await tree.size();
    if (size > current) throw outOfRange(field, `must be at most the tree size ${current}`);
  }

  app.get(
    '/checkpoints/latest',
    {
      schema: {
        tags: ['audit'],
        summary: 'The latest signed checkpoint of the audit log (C2SP signed note and its fields)',
        description: 'Verify `note` with the published verifier keys before trusting `size` and `rootHash`; the copies published outside the database are the reference.',
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['note', 'origin', 'size', 'rootHash', 'timestamp', 'publishedAt'],
            properties: {
              note: { type: 'string', description: 'The signed note exactly as published.' },
              origin: { type: 'string' },
              size: { type: 'integer' },
              rootHash: hashSchema,
              timestamp: { type: 'string', format: 'date-time' },
              publishedAt: { type: 'string', format: 'date-time' },
            },
          },
          ...problems,
        },
      },
    },
    async (request, reply) => {
      requireProofRole(requireIdentity(request));
      noteAccess(request, { basis: 'audit' });
      const { rows } = await deps.db.query<{ note: string; published_at: Date }>('SELECT note, published_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
      const row = rows[0];
      if (row === undefined) throw new HttpProblem(404, 'NO_CHECKPOINT', 'Not Found', 'no checkpoint has been published yet');
      const split = row.note.lastIndexOf('\n\n');
      let checkpoint;
      try {
        checkpoint = parseCheckpointText(row.note.slice(0, split + 1));
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw error;
        throw new HttpProblem(500, 'CHECKPOINT_UNREADABLE', 'Internal Server Error', 'the stored checkpoint cannot be read');
      }
      return reply.headers(NO_STORE).send({
        note: row.note,
        origin: checkpoint.origin,
        size: checkpoint.size,
        rootHash: b64(checkpoint.rootHash),
        timestamp: checkpoint.timestamp.toISOString(),
        publishedAt: row.published_at.toISOString(),
      });
    },
  );

  app.get<{ Querystring: { seq: number; size: number } }>(
    '/proofs/inclusion',
    {
      schema: {
        tags: ['audit'],
        summary: 'Inclusion proof of the entry `seq` in the tree of `size` entries (RFC 9162 §2.1.3)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['seq', 'size'],
          properties: { seq: sizeParam('Index of the entry in the log (0-based).'), size: sizeParam('Tree size of the checkpoint to prove against.', 1) },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['seq', 'size', 'leafHash', 'auditPath', 'rootHash'],
            properties: {
              seq: { type: 'integer' },
              size: { type: 'integer' },
              leafHash: hashSchema,
              auditPath: { type: 'array', items: hashSchema, description: 'Sibling hashes from the leaf upwards.' },
              rootHash: { ...hashSchema, description: 'Root of the tree of `size` entries, as this server computes it: compare it with a verified checkpoint.' },
            },
          },
          ...problems,
        },
      },
    },
    async (request, reply) => {
      requireProofRole(requireIdentity(request));
      noteAccess(request, { basis: 'audit' });
      const { seq, size } = request.query;
      if (seq >= size) throw outOfRange('seq', 'must be less than size');
      await treeSizeAtLeast(size, 'size');
      const [leaf] = await tree.nodes([{ level: 0, index: seq }]);
      const [auditPath, rootHash] = await Promise.all([tree.inclusionProof(seq, size), tree.rootAt(size)]);
      return reply.headers(NO_STORE).send({ seq, size, leafHash: b64(leaf as Uint8Array), auditPath: auditPath.map(b64), rootHash: b64(rootHash) });
    },
  );

  app.get<{ Querystring: { from: number; to: number } }>(
    '/proofs/consistency',
    {
      schema: {
        tags: ['audit'],
        summary: 'Consistency proof that the tree of `to` entries extends the tree of `from` entries (RFC 9162 §2.1.4)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: sizeParam('Tree size of the older checkpoint.'), to: sizeParam('Tree size of the newer checkpoint.') },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to', 'proof', 'fromRootHash', 'toRootHash'],
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              proof: { type: 'array', items: hashSchema },
              fromRootHash: hashSchema,
              toRootHash: hashSchema,
            },
          },
          ...problems,
        },
      },
    },
    async (request, reply) => {
      requireProofRole(requireIdentity(request));
      noteAccess(request, { basis: 'audit' });
      const { from, to } = request.query;
      if (from > to) throw outOfRange('from', 'must not be greater than to');
      await treeSizeAtLeast(to, 'to');
      const [proof, fromRootHash, toRootHash] = await Promise.all([tree.consistencyProof(from, to), tree.rootAt(from), tree.rootAt(to)]);
      return reply.headers(NO_STORE).send({ from, to, proof: proof.map(b64), fromRootHash: b64(fromRootHash), toRootHash: b64(toRootHash) });
    },
  );
  // A promise, so fastify takes the function as a plugin too (`app.register(auditProofRoutes, { prefix, db })`).
  return Promise.resolve();
}
