import type { Identity } from '@fitledger/auth';
import type { KeyStore } from '@fitledger/crypto';
import {
  decide,
  DomainError,
  envelopeEvents,
  evolve,
  eventRegistry,
  initialState,
  uuidv7,
  workoutStreamId,
  type CommandMetadata,
  type WorkoutCommand,
  type WorkoutEvent,
  type WorkoutState,
} from '@fitledger/domain';
import type { EventCodec } from '@fitledger/event-codec';
import { IdempotencyConflictError, START, WrongExpectedRevisionError, type EventStore, type RecordedEvent } from '@fitledger/event-store';
import { HttpProblem } from '@fitledger/http';
import { LRUCache } from 'lru-cache';
import { decideWorkoutAccess, type WorkoutAction, type WorkoutOwner } from './accessPolicy';
import { idempotencyScope, type GeneratedIdPurpose, type IdempotencyScope } from './idempotency';
import { ifMatchSatisfied, type IfMatch } from './preconditions';
import {
  concurrentModification,
  domainProblem,
  fieldLocator,
  idempotencyKeyReused,
  preconditionFailed,
  subjectErased,
  workoutNotFound,
  type FieldLocator,
} from './problems';

/** How often a command without If-Match is re-decided after losing a race for the stream. */
export const MAX_ATTEMPTS = 3;

export interface RunnerDeps {
  readonly store: EventStore;
  readonly codec: EventCodec;
  readonly keys: KeyStore;
  readonly clock: () => Date;
  /** `size` cryptographically random bytes. */
  readonly randomBytes: (size: number) => Uint8Array;
  /** Folded workout states kept between commands (default 10,000 streams, 10 minutes). */
  readonly stateCache?: { readonly maxStreams?: number; readonly ttlMs?: number };
}

/** A workout folded up to `revision`; later commands read and decode only the events after it. */
interface CachedWorkout {
  readonly revision: number;
  readonly position: string;
  readonly state: WorkoutState;
  readonly owner: WorkoutOwner | undefined;
}

/** One request's command context: who, when, and the request's retry and precondition headers. */
export interface CommandContext {
  readonly identity: Identity;
  readonly now: Date;
  readonly correlationId: string;
  readonly commandId: string;
  readonly traceparent?: string;
  readonly idempotency?: IdempotencyScope;
  readonly ifMatch?: IfMatch;
  /** A new id for a workout or set the client did not name; derived from the Idempotency-Key when there is one. */
  newId(purpose: GeneratedIdPurpose): string;
}

export interface ContextInput {
  readonly identity: Identity;
  readonly correlationId: string;
  readonly traceparent?: string;
  readonly idempotencyKey?: string;
  /** What identifies the request under its Idempotency-Key (computed only when there is a key). */
  readonly fingerprint: () => string;
  readonly ifMatch?: IfMatch;
}

export interface CommandSpec {
  readonly workoutId: string;
  readonly action: WorkoutAction;
  /** Whether If-Match applies to this stream (clone checks it against the source instead). */
  readonly ifMatchTarget: boolean;
  readonly locate?: FieldLocator;
  /** Builds the command from the current state; may load more (clone loads its source). */
  command(metadata: CommandMetadata, state: WorkoutState): WorkoutCommand | Promise<WorkoutCommand>;
}

export interface CommandOutcome {
  readonly revision: number;
  readonly position: string;
}

export interface LoadedWorkout {
  readonly state: WorkoutState;
  readonly revision: number;
}

/**
 * The write path of every workout route: load the stream → authorise → (retry? answer as before)
 * → If-Match → decide → encode (PHI sealed) → append with the loaded revision as expectation.
 */
export function createWorkoutCommandRunner(deps: RunnerDeps) {
  const freshId = (now: Date): string => uuidv7(now, deps.randomBytes(10));

  async function context(input: ContextInput): Promise<CommandContext> {
    const now = deps.clock();
    const { identity } = input;
    // The data are the caller's own (owner-only policy), so their key scopes the derived ids.
    const idempotency =
      input.idempotencyKey === undefined
        ? undefined
        : idempotencyScope(await deps.keys.getOrCreate(identity.sub), identity.sub, input.idempotencyKey, input.fingerprint());
    return {
      identity,
      now,
      correlationId: input.correlationId,
      commandId: idempotency?.commandId ?? freshId(now),
      ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
      ...(idempotency === undefined ? {} : { idempotency }),
      ...(input.ifMatch === undefined ? {} : { ifMatch: input.ifMatch }),
      newId: (purpose) => idempotency?.generatedId(purpose) ?? freshId(now),
    };
  }

  const cache = new LRUCache<string, CachedWorkout>({ max: deps.stateCache?.maxStreams ?? 10_000, ttl: deps.stateCache?.ttlMs ?? 600_000 });

  /**
   * How a command reads its stream: `trusted` answers from the cache without a round trip (the
   * append's expected revision then proves the cached state current, and every refusal is re-checked
   * on a fresh read); `current` tops the cached state up with the newer events; `full` reads and
   * returns every recorded event (needed to recognise a retried Idempotency-Key).
   */
  type LoadMode = 'trusted' | 'current' | 'full';

  async function load(streamId: string, mode: LoadMode): Promise<CachedWorkout & { recorded?: readonly RecordedEvent[]; fromCache: boolean }> {
    const cached = mode === 'full' ? undefined : cache.get(streamId);
    if (cached && mode === 'trusted') return { ...cached, fromCache: true };
    if (cached) {
      const newer = await deps.store.readStream(streamId, { fromRevision: cached.revision + 1 });
      if (newer.length === 0) return { ...cached, fromCache: false };
      if (newer[0]?.revision === cached.revision + 1) {
        const folded = { revision: (newer.at(-1) as RecordedEvent).revision, position: (newer.at(-1) as RecordedEvent).position, state: await fold(newer, cached.state), owner: cached.owner };
        cache.set(streamId, folded);
        return { ...folded, fromCache: false };
      }
    }
    const recorded = await deps.store.readStream(streamId);
    const folded = { revision: recorded.at(-1)?.revision ?? -1, position: recorded.at(-1)?.position ?? START, state: await fold(recorded), owner: ownerOf(recorded) };
    if (recorded.length > 0) cache.set(streamId, folded);
    return { ...folded, recorded, fromCache: false };
  }

  async function fold(recorded: readonly RecordedEvent[], from: WorkoutState = initialState()): Promise<WorkoutState> {
    let state = from;
    for (const decoded of await deps.codec.decodeAll(recorded)) {
      if (decoded.erased) throw subjectErased();
      state = evolve(state, decoded as unknown as WorkoutEvent);
    }
    return state;
  }

  /** Checks access to an existing stream (404 / 403 otherwise) and returns whose it is. */
  function authorise(ctx: CommandContext, action: WorkoutAction, owner: WorkoutOwner | undefined, locate: FieldLocator): { subjectId: string; tenantId: string } {
    const decision = decideWorkoutAccess(ctx.identity, action, owner);
    switch (decision.outcome) {
      case 'allow':
        return decision;
      case 'not_found':
        throw workoutNotFound();
      case 'exists':
        throw domainProblem(new DomainError('WORKOUT_ALREADY_EXISTS', 'a workout with this id already exists', { field: 'workoutId' }), locate);
      case 'forbidden':
        throw forbidden(decision.reason);
      default: {
        const _: never = decision;
        throw new Error(`unknown access decision ${JSON.stringify(_)}`);
      }
    }
  }

  /** Refuses callers who may not write at all, before any key or stream is touched. */
  function assertMayWrite(identity: Identity): void {
    const decision = decideWorkoutAccess(identity, 'create', undefined);
    if (decision.outcome === 'forbidden') throw forbidden(decision.reason);
  }

  /** Loads a workout the caller may change (e.g. a clone source), with If-Match checked against it. */
  async function loadForChange(ctx: CommandContext, workoutId: string, checkIfMatch: boolean): Promise<LoadedWorkout> {
    const loaded = await load(workoutStreamId(workoutId), 'current');
    authorise(ctx, 'change', loaded.owner, fieldLocator());
    if (checkIfMatch && ctx.ifMatch !== undefined && !ifMatchSatisfied(ctx.ifMatch, loaded.revision)) throw preconditionFailed();
    return { state: loaded.state, revision: loaded.revision };
  }

  async function execute(ctx: CommandContext, spec: CommandSpec): Promise<CommandOutcome> {
    const streamId = workoutStreamId(spec.workoutId);
    const locate = spec.locate ?? fieldLocator();
    let idempotencyConflict = false;
    // Without an Idempotency-Key the cached state is trusted first: a stale one cannot append (the
    // expected revision no longer matches) and any refusal decided on it is re-decided on a fresh read.
    let trustCache = ctx.idempotency === undefined;
    for (let attempt = 1; ; ) {
      const loaded = await load(streamId, ctx.idempotency !== undefined ? 'full' : trustCache ? 'trusted' : 'current');
      const recheck = (): boolean => {
        if (!loaded.fromCache) return false;
        trustCache = false;
        return true;
      };
      let owner: { subjectId: string; tenantId: string };
      let events: WorkoutEvent[];
      let metadata: CommandMetadata;
      try {
        owner = authorise(ctx, spec.action, loaded.owner, locate);
        if (ctx.idempotency !== undefined) {
          const prior = priorOutcome(loaded.recorded ?? [], ctx.idempotency);
          if (prior !== undefined) return prior;
          // The key's event ids exist, but not in this stream: the key was used for another workout.
          if (idempotencyConflict) throw idempotencyKeyReused();
        }
        if (spec.ifMatchTarget && ctx.ifMatch !== undefined && !ifMatchSatisfied(ctx.ifMatch, loaded.revision)) throw preconditionFailed();
        metadata = {
          now: ctx.now,
          actor: { sub: ctx.identity.sub, role: ctx.identity.role },
          tenantId: owner.tenantId,
          subjectId: owner.subjectId,
          commandId: ctx.commandId,
          correlationId: ctx.correlationId,
          ...(ctx.traceparent === undefined ? {} : { traceparent: ctx.traceparent }),
        };
        try {
          events = decide(await spec.command(metadata, loaded.state), loaded.state);
        } catch (error) {
          if (error instanceof DomainError) throw domainProblem(error, locate);
          throw error;
        }
      } catch (error) {
        if (recheck()) continue;
        throw error;
      }
      // Nothing to record (a retried set log with the same id and values, a set already deleted...).
      if (events.length === 0) {
        if (recheck()) continue;
        return { revision: loaded.revision, position: loaded.position };
      }

      const envelopes = envelopeEvents(events, {
        streamId,
        command: metadata,
        source: { kind: 'manual' },
        eventIds: events.map((_, i) => ctx.idempotency?.eventId(i) ?? freshId(ctx.now)),
        schemaVersionOf: (type) => eventRegistry.currentVersion(type),
      });
      const encoded = await deps.codec.encodeAll(envelopes);
      try {
        const appended = await deps.store.appendToStream(streamId, encoded, { expectedRevision: loaded.revision < 0 ? 'no-stream' : loaded.revision });
        if (!appended.duplicate) {
          const after = events.reduce<WorkoutState>((st, e) => evolve(st, e), loaded.state);
          cache.set(streamId, { revision: appended.nextExpectedRevision, position: appended.position, state: after, owner: loaded.owner ?? { subjectId: owner.subjectId, tenantId: owner.tenantId } });
        }
        return { revision: appended.nextExpectedRevision, position: appended.position };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) {
          cache.delete(streamId);
          trustCache = false;
          // A stale cache is not the caller's conflict: only races seen on a fresh read count.
          if (loaded.fromCache) continue;
          if (ctx.ifMatch !== undefined && spec.ifMatchTarget) throw preconditionFailed();
          if (++attempt > MAX_ATTEMPTS) throw concurrentModification();
          continue;
        }
        if (error instanceof IdempotencyConflictError && !idempotencyConflict) {
          // Either a concurrent retry won (the reload finds it and answers as it did) or the key was used elsewhere.
          idempotencyConflict = true;
          continue;
        }
        throw error;
      }
    }
  }

  return { context, execute, loadForChange, assertMayWrite };
}

export type WorkoutCommandRunner = ReturnType<typeof createWorkoutCommandRunner>;

function ownerOf(recorded: readonly RecordedEvent[]): WorkoutOwner | undefined {
  const first = recorded[0];
  if (first === undefined) return undefined;
  const { subjectId, tenantId } = first.metadata;
  // Metadata written by this service always has both; anything else is nobody's to change.
  return typeof subjectId === 'string' && typeof tenantId === 'string' ? { subjectId, tenantId } : { subjectId: '', tenantId: '' };
}

/**
 * The answer a request under this Idempotency-Key already got: its events are in the stream. The
 * same key with another request (other body, route or workout) is refused.
 */
function priorOutcome(recorded: readonly RecordedEvent[], scope: IdempotencyScope): CommandOutcome | undefined {
  const firstId = scope.eventId(0);
  const start = recorded.findIndex((e) => e.eventId === firstId);
  const first = recorded[start];
  if (first === undefined) return undefined;
  if (first.metadata['causationId'] !== scope.commandId) throw idempotencyKeyReused();
  let last = first;
  for (let i = 1, next = recorded[start + 1]; next?.eventId === scope.eventId(i); i++, next = recorded[start + i]) last = next;
  return { revision: last.revision, position: last.position };
}

function forbidden(reason: 'missing_scope' | 'role'): HttpProblem {
  return reason === 'missing_scope'
    ? new HttpProblem(403, 'INSUFFICIENT_SCOPE', 'Forbidden', 'the access token lacks the fitledger:write scope', undefined, {
        'www-authenticate': 'Bearer realm="fitledger", error="insufficient_scope", scope="fitledger:write"',
      })
    : new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', 'this role does not record workouts');
}
