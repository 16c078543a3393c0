import { createHash } from 'node:crypto';
import { canonicalJson, dedupEventId, type DataKey, type JsonValue } from '@fitledger/crypto';

/**
 * Idempotency-Key support. With a key, everything a command would otherwise make up (event ids,
 * the new workout or set id, the command id) is derived from (actor, key) with a keyed hash under
 * the subject's data key (`dedupEventId`: HMAC-SHA256 → UUIDv8). A retry therefore addresses the
 * same stream and finds its own events; after erasure (key destroyed) the ids link to nothing, and
 * no unkeyed hash of health data ever reaches the clear metadata.
 */

const EVENT_ID_PURPOSE = 'fitledger/command-service/event-id';
const GENERATED_ID_PURPOSE = 'fitledger/command-service/generated-id';
const COMMAND_ID_PURPOSE = 'fitledger/command-service/command-id';

export type GeneratedIdPurpose = 'workoutId' | 'setId' | 'exerciseId' | 'measurementId' | 'templateId' | 'planId' | 'goalId' | 'consentId' | 'relationshipId' | 'organisationId' | 'grantId';

/** The request as far as idempotency is concerned: a retry must send the same one. */
export interface RequestFingerprintInput {
  readonly method: string;
  /** Route pattern, e.g. `/api/v1/workouts/:workoutId/sets`. */
  readonly route: string;
  readonly params: unknown;
  readonly body: unknown;
}

/** SHA-256 over canonical JSON of the request (hashed again, keyed, before it is stored). */
export function requestFingerprint(input: RequestFingerprintInput): string {
  // A JSON round trip turns fastify's parsed objects (params have no plain prototype) into plain JSON.
  const value = JSON.parse(JSON.stringify({ method: input.method, route: input.route, params: input.params ?? null, body: input.body ?? null })) as JsonValue;
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

export interface IdempotencyScope {
  readonly key: string;
  /** Id of the i-th event the command appends. */
  eventId(index: number): string;
  /** A server-made id (new workout, new set) that a retry makes again. */
  generatedId(purpose: GeneratedIdPurpose): string;
  /** Stored as the events' causationId: tells a retry from another request under the same key. */
  readonly commandId: string;
}

export function idempotencyScope(dataKey: DataKey, actorSub: string, key: string, fingerprint: string): IdempotencyScope {
  const scoped = (suffix: string): string => JSON.stringify([actorSub, suffix]);
  return {
    key,
    eventId: (index) => dedupEventId(dataKey, EVENT_ID_PURPOSE, key, scoped(String(index))),
    generatedId: (purpose) => dedupEventId(dataKey, GENERATED_ID_PURPOSE, key, scoped(purpose)),
    commandId: dedupEventId(dataKey, COMMAND_ID_PURPOSE, key, scoped(fingerprint)),
  };
}
