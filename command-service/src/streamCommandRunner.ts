import type { Identity } from '@fitledger/auth';
import type { KeyStore } from '@fitledger/crypto';
import {
  DomainError,
  envelopeEvents,
  eventRegistry,
  uuidv7,
  type CommandMetadata,
  type Decider,
  type DomainErrorCode,
  type Event as DomainEvent,
} from '@fitledger/domain';
import type { EventCodec } from '@fitledger/event-codec';
import { IdempotencyConflictError, START, WrongExpectedRevisionError, type EventStore, type RecordedEvent } from '@fitledger/event-store';
import { HttpProblem } from '@fitledger/http';
import { LRUCache } from 'lru-cache';
import type { AccessDecision, Caller } from './accessPolicy';
import { idempotencyScope, type GeneratedIdPurpose, type IdempotencyScope } from './idempotency';
import { ifMatchSatisfied, type IfMatch } from './preconditions';
import { domainProblem, fieldLocator, idempotencyKeyReused, type FieldLocator } from './problems';

/** How often a command without If-Match is re-decided after losing a race for the stream. */
export const MAX_ATTEMPTS = 3;

/** Whose stream it is, from its first event's metadata; undefined when the stream is empty. */
export interface StreamOwner {
  readonly subjectId: string;
  readonly tenantId: string;
}

/** `create` starts a stream (refused as "exists" on a taken id); `change` needs an existing one the caller may change. */
export type StreamAction = 'create' | 'change';

/**
 * One kind of aggregate the command service writes (workout, exercise, body measurement): its
 * decider, stream naming, access policy and the wording of its problems.
 */
export interface StreamKind<State, Command, Event> {
  /** In problem texts: "no such workout", "the exercise has changed …". */
  readonly noun: string;
  /** Problem code of "not found" (e.g. WORKOUT_NOT_FOUND). */
  readonly notFoundCode: string;
  /** The domain error code and field for a create on a taken id. */
  readonly alreadyExists: { readonly code: DomainErrorCode; readonly field: string };
  /** Domain errors answered as the kind's 404 (existence must not leak through them). */
  readonly notFoundDomainCodes: ReadonlySet<DomainErrorCode>;
  /** 403 detail when the role may not write this kind. */
  readonly roleNotAllowed: string;
  readonly decider: Decider<State, Command, Event>;
  readonly streamId: (id: string) => string;
  /** `id` is the aggregate's id (an organisation's stream is its own subject). */
  readonly access: (caller: Caller, action: StreamAction, owner: StreamOwner | undefined, id: string) => AccessDecision;
}

export interface StreamRunnerDeps {
  readonly store: EventStore;
  readonly codec: EventCodec;
  readonly keys: KeyStore;
  readonly clock: () => Date;
  /** `size` cryptographically random bytes. */
  readonly randomBytes: (size: number) => Uint8Array;
  /** Folded states kept between commands (default 10,000 streams, 10 minutes). */
  readonly stateCache?: { readonly maxStreams?: number; readonly ttlMs?: number };
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
  /**
   * An in-process component (e.g. the goal evaluator) acting on an existing stream for its owner:
   * recorded as actor `system:<name>` on behalf of the owner. Never built from a request: tokens
   * cannot carry the system role.
   */
  readonly system?: { readonly name: string };
  /**
   * A trainer creating an entity in a client's record (an assigned workout): set by the route only
   * after the coaching relationship and the client's consent were checked. The events are the
   * client's, written by the trainer on their behalf.
   */
  readonly onBehalfOf?: { readonly subjectId: string; readonly tenantId: string; readonly consentVersion?: number };
  /** A new id for an entity the client did not name; derived from the Idempotency-Key when there is one. */
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

export interface CommandSpec<State, Command> {
  /** The aggregate's id (the stream is `kind.streamId(id)`). */
  readonly id: string;
  readonly action: StreamAction;
  /** Whether If-Match applies to this stream (a clone checks it against its source instead). Default true. */
  readonly ifMatchTarget?: boolean;
  readonly locate?: FieldLocator;
  /** Builds the command from the current state; may load more (a clone loads its source). */
  command(metadata: CommandMetadata, state: State): Command | Promise<Command>;
}

export interface CommandOutcome {
  readonly revision: number;
  readonly position: string;
}

export interface Loaded<State> {
  readonly state: State;
  readonly revision: number;
}

/** A stream folded up to `revision`; later commands start from it. */
interface Folded<State> {
  readonly revision: number;
  readonly position: string;
  readonly state: State;
  readonly owner: StreamOwner | undefined;
}

/**
 * How a command reads its stream: `trusted` answers from the cache without a round trip (the
 * append's expected revision then proves the cached state current, and every refusal is re-checked
 * on a fresh read); `current` tops the cached state up with the newer events; `full` reads and
 * returns every recorded event (needed to recognise a retried Idempotency-Key).
 */
type LoadMode = 'trusted' | 'current' | 'full';

/**
 * The write path shared by every aggregate: load the stream → authorise → (retry? answer as
 * before) → If-Match → decide → encode (PHI sealed) → append with the loaded revision as
 * expectation, re-deciding after a lost race.
 */
export function createStreamCommandRunner<State, Command, Event extends DomainEvent>(kind: StreamKind<State, Command, Event>, deps: StreamRunnerDeps) {
  const freshId = (now: Date): string => uuidv7(now, deps.randomBytes(10));
  const { decider } = kind;

  const notFound = (): HttpProblem => new HttpProblem(404, kind.notFoundCode, 'Not Found', `no such ${kind.noun}`);
  const preconditionFailed = (): HttpProblem =>
    new HttpProblem(412, 'PRECONDITION_FAILED', 'Precondition Failed', `the ${kind.noun} has changed since the revision named in If-Match`);
  const concurrentModification = (): HttpProblem =>
    new HttpProblem(409, 'CONCURRENT_MODIFICATION', 'Conflict', `the ${kind.noun} kept changing while the command was applied; retry`);
  const subjectErased = (): HttpProblem => new HttpProblem(410, 'SUBJECT_ERASED', 'Gone', `the health data of this ${kind.noun} was erased`);
  const forbidden = (reason: 'missing_scope' | 'role'): HttpProblem =>
    reason === 'missing_scope'
      ? new HttpProblem(403, 'INSUFFICIENT_SCOPE', 'Forbidden', 'the access token lacks the fitledger:write scope', undefined, {
          'www-authenticate': 'Bearer realm="fitledger", error="insufficient_scope", scope="fitledger:write"',
        })
      : new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', kind.roleNotAllowed);
  const problemOf = (error: DomainError, locate: FieldLocator): HttpProblem => (kind.notFoundDomainCodes.has(error.code) ? notFound() : domainProblem(error, locate));

  async function context(input: ContextInput): Promise<CommandContext> {
    const now = deps.clock();
    const { identity } = input;
    // The data are the caller's own (owner-only policy), so their key scopes the derived ids.
    const idempotency =
      input.idempotencyKey === undefined ? undefined : idempotencyScope(await deps.keys.getOrCreate(identity.sub), identity.sub, input.idempotencyKey, input.fingerprint());
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

  const cache = new LRUCache<string, Folded<State>>({ max: deps.stateCache?.maxStreams ?? 10_000, ttl: deps.stateCache?.ttlMs ?? 600_000 });

  async function fold(recorded: readonly RecordedEvent[], from: State = decider.initialState()): Promise<State> {
    let state = from;
    for (const decoded of await deps.codec.decodeAll(recorded)) {
      if (decoded.erased) throw subjectErased();
      state = decider.evolve(state, decoded as unknown as Event);
    }
    return state;
  }

  async function load(streamId: string, mode: LoadMode): Promise<Folded<State> & { recorded?: readonly RecordedEvent[]; fromCache: boolean }> {
    const cached = mode === 'full' ? undefined : cache.get(streamId);
    if (cached && mode === 'trusted') return { ...cached, fromCache: true };
    if (cached) {
      const newer = await deps.store.readStream(streamId, { fromRevision: cached.revision + 1 });
      if (newer.length === 0) return { ...cached, fromCache: false };
      if (newer[0]?.revision === cached.revision + 1) {
        const last = newer.at(-1) as RecordedEvent;
        const folded = { revision: last.revision, position: last.position, state: await fold(newer, cached.state), owner: cached.owner };
        cache.set(streamId, folded);
        return { ...folded, fromCache: false };
      }
    }
    const recorded = await deps.store.readStream(streamId);
    const folded = { revision: recorded.at(-1)?.revision ?? -1, position: recorded.at(-1)?.position ?? START, state: await fold(recorded), owner: ownerOf(recorded) };
    if (recorded.length > 0) cache.set(streamId, folded);
    return { ...folded, recorded, fromCache: false };
  }

  /** Checks access to the stream (404 / 403 / exists) and returns whose it is. */
  function authorise(ctx: CommandContext, action: StreamAction, owner: StreamOwner | undefined, locate: FieldLocator, id: string): StreamOwner {
    if (ctx.system !== undefined) {
      if (action === 'change' && owner !== undefined) return owner;
      throw notFound();
    }
    if (ctx.onBehalfOf !== undefined) {
      // Only a new entity in the client's record; anything existing is not the trainer's to touch here.
      if (action === 'create' && owner === undefined) return { subjectId: ctx.onBehalfOf.subjectId, tenantId: ctx.onBehalfOf.tenantId };
      if (action === 'create') throw domainProblem(new DomainError(kind.alreadyExists.code, `a ${kind.noun} with this id already exists`, { field: kind.alreadyExists.field }), locate);
      throw notFound();
    }
    const decision = kind.access(ctx.identity, action, owner, id);
    switch (decision.outcome) {
      case 'allow':
        return decision;
      case 'not_found':
        throw notFound();
      case 'exists':
        throw domainProblem(new DomainError(kind.alreadyExists.code, `a ${kind.noun} with this id already exists`, { field: kind.alreadyExists.field }), locate);
      case 'forbidden':
        throw forbidden(decision.reason);
      default: {
        const _: never = decision;
        throw new Error(`unknown access decision ${JSON.stringify(_)}`);
      }
    }
  }

  /** Refuses callers who may not write this kind at all, before any key or stream is touched. */
  function assertMayWrite(identity: Identity): void {
    const decision = kind.access(identity, 'create', undefined, '');
    if (decision.outcome === 'forbidden') throw forbidden(decision.reason);
  }

  /** Loads a stream the caller may change (e.g. a clone source), its newest events included, If-Match checked against it when asked. */
  async function loadForChange(ctx: CommandContext, id: string, checkIfMatch: boolean): Promise<Loaded<State>> {
    const loaded = await load(kind.streamId(id), 'current');
    authorise(ctx, 'change', loaded.owner, fieldLocator(), id);
    if (checkIfMatch && ctx.ifMatch !== undefined && !ifMatchSatisfied(ctx.ifMatch, loaded.revision)) throw preconditionFailed();
    return { state: loaded.state, revision: loaded.revision };
  }

  async function execute(ctx: CommandContext, spec: CommandSpec<State, Command>): Promise<CommandOutcome> {
    const streamId = kind.streamId(spec.id);
    const locate = spec.locate ?? fieldLocator();
    const ifMatchTarget = spec.ifMatchTarget ?? true;
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
      let owner: StreamOwner;
      let events: Event[];
      let metadata: CommandMetadata;
      try {
        owner = authorise(ctx, spec.action, loaded.owner, locate, spec.id);
        if (ctx.idempotency !== undefined) {
          const prior = priorOutcome(loaded.recorded ?? [], ctx.idempotency);
          if (prior !== undefined) return prior;
          // The key's event ids exist, but not in this stream: the key was used for another entity.
          if (idempotencyConflict) throw idempotencyKeyReused();
        }
        if (ifMatchTarget && ctx.ifMatch !== undefined && !ifMatchSatisfied(ctx.ifMatch, loaded.revision)) throw preconditionFailed();
        metadata = {
          now: ctx.now,
          ...(ctx.system === undefined
            ? { actor: { sub: ctx.identity.sub, role: ctx.identity.role }, ...(ctx.onBehalfOf === undefined ? {} : { onBehalfOf: { sub: ctx.onBehalfOf.subjectId, role: 'client' as const } }) }
            : { actor: { sub: `system:${ctx.system.name}`, role: 'system' as const }, onBehalfOf: { sub: owner.subjectId, role: 'client' as const } }),
          tenantId: owner.tenantId,
          subjectId: owner.subjectId,
          commandId: ctx.commandId,
          correlationId: ctx.correlationId,
          ...(ctx.traceparent === undefined ? {} : { traceparent: ctx.traceparent }),
        };
        try {
          events = decider.decide(await spec.command(metadata, loaded.state), loaded.state);
        } catch (error) {
          if (error instanceof DomainError) throw problemOf(error, locate);
          throw error;
        }
      } catch (error) {
        if (recheck()) continue;
        throw error;
      }
      // Nothing to record (a retried command with the same values, something already deleted...).
      if (events.length === 0) {
        if (recheck()) continue;
        return { revision: loaded.revision, position: loaded.position };
      }

      const envelopes = envelopeEvents(events, {
        streamId,
        command: metadata,
        source: { kind: 'manual' },
        ...(ctx.onBehalfOf?.consentVersion === undefined ? {} : { consentVersion: ctx.onBehalfOf.consentVersion }),
        eventIds: events.map((_, i) => ctx.idempotency?.eventId(i) ?? freshId(ctx.now)),
        schemaVersionOf: (type) => eventRegistry.currentVersion(type),
      });
      const encoded = await deps.codec.encodeAll(envelopes);
      try {
        const appended = await deps.store.appendToStream(streamId, encoded, { expectedRevision: loaded.revision < 0 ? 'no-stream' : loaded.revision });
        if (!appended.duplicate) {
          const after = events.reduce<State>((st, e) => decider.evolve(st, e), loaded.state);
          cache.set(streamId, { revision: appended.nextExpectedRevision, position: appended.position, state: after, owner: loaded.owner ?? owner });
        }
        return { revision: appended.nextExpectedRevision, position: appended.position };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) {
          cache.delete(streamId);
          trustCache = false;
          // A stale cache is not the caller's conflict: only races seen on a fresh read count.
          if (loaded.fromCache) continue;
          if (ctx.ifMatch !== undefined && ifMatchTarget) throw preconditionFailed();
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

  /** A context for an in-process component acting for stream owners (see CommandContext.system). */
  function systemContext(name: string): CommandContext {
    const now = deps.clock();
    return {
      identity: { sub: `system:${name}`, role: 'client', tenantId: '', scopes: [], amr: [], expiresAtEpochS: 0 },
      now,
      correlationId: freshId(now),
      commandId: freshId(now),
      system: { name },
      newId: () => freshId(now),
    };
  }

  /** The stream's current state and owner without any access decision (the caller decides, e.g. "may use a shared template"); undefined when empty. */
  async function peek(id: string): Promise<(Loaded<State> & { readonly owner: StreamOwner }) | undefined> {
    const loaded = await load(kind.streamId(id), 'current');
    return loaded.owner === undefined ? undefined : { state: loaded.state, revision: loaded.revision, owner: loaded.owner };
  }

  return { context, systemContext, execute, loadForChange, peek, assertMayWrite, notFound, preconditionFailed };
}

export type StreamCommandRunner<State, Command> = {
  context(input: ContextInput): Promise<CommandContext>;
  systemContext(name: string): CommandContext;
  execute(ctx: CommandContext, spec: CommandSpec<State, Command>): Promise<CommandOutcome>;
  loadForChange(ctx: CommandContext, id: string, checkIfMatch: boolean): Promise<Loaded<State>>;
  peek(id: string): Promise<(Loaded<State> & { readonly owner: StreamOwner }) | undefined>;
  assertMayWrite(identity: Identity): void;
  notFound(): HttpProblem;
  preconditionFailed(): HttpProblem;
};

function ownerOf(recorded: readonly RecordedEvent[]): StreamOwner | undefined {
  const first = recorded[0];
  if (first === undefined) return undefined;
  const { subjectId, tenantId } = first.metadata;
  // Metadata written by this service always has both; anything else is nobody's to change.
  return typeof subjectId === 'string' && typeof tenantId === 'string' ? { subjectId, tenantId } : { subjectId: '', tenantId: '' };
}

/**
 * The answer a request under this Idempotency-Key already got: its events are in the stream. The
 * same key with another request (other body, route or entity) is refused.
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
