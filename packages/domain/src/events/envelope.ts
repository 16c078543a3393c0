/**
 * The event envelope. Only opaque ids, types, system times and flags live outside `data`; anything
 * about the person (including when it happened, `occurredAt`) lives inside `data`, whose non-plain
 * fields the crypto layer encrypts with the subject's key.
 */

export const ROLES = ['client', 'trainer', 'org_admin', 'auditor', 'researcher', 'platform_admin', 'system'] as const;
/** The six human roles, plus `system` for workflows acting on their own (device sync, imports). */
export type Role = (typeof ROLES)[number];

export type Actor = {
  /** Opaque subject id of the caller (OIDC `sub`). */
  readonly sub: string;
  readonly role: Role;
};

export const SOURCE_KINDS = ['manual', 'device', 'import'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export type EventSource = {
  readonly kind: SourceKind;
  /** Device or import provider, e.g. `garmin`, `strava`. */
  readonly provider?: string;
};

/** Restrictions that travel with the data, e.g. Strava: visible to the subject only, never used for ML. */
export type DataUse = {
  readonly subjectOnly: boolean;
  readonly noMl: boolean;
};

export type EventMetadata = {
  readonly tenantId: string;
  /** Opaque id of the person whose health data this is. */
  readonly subjectId: string;
  readonly actor: Actor;
  /** The principal the actor acted for (a trainer logging for a client, a workflow for a user). */
  readonly onBehalfOf?: Actor;
  readonly source: EventSource;
  readonly dataUse?: DataUse;
  readonly correlationId: string;
  /** Id of the command (or event) that caused this event. */
  readonly causationId?: string;
  /** W3C Trace Context `traceparent` of the request that wrote the event. */
  readonly traceparent?: string;
  /** Version of the subject's consent stream the write relied on. */
  readonly consentVersion?: number;
};

/** What a decider emits: a past-tense type and its current-version data. */
export type Event<Type extends string = string, Data = unknown> = {
  readonly type: Type;
  readonly data: Data;
};

/**
 * Everything a decider needs besides the command data: time, identity and ids arrive here so a
 * decider never reads a clock or generates randomness.
 */
export type CommandMetadata = {
  /** The service's clock when the command was received. */
  readonly now: Date;
  readonly actor: Actor;
  readonly onBehalfOf?: Actor;
  readonly tenantId: string;
  readonly subjectId: string;
  /** Idempotency key of the request; becomes the events' `causationId`. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly traceparent?: string;
};

/** An imperative request: `LogSet`, `CompleteWorkout`. */
export type Command<Type extends string = string, Data = unknown> = {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
};

type EnvelopeFields = {
  /** UUIDv7; client-suppliable so a retried append is idempotent. */
  readonly eventId: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly metadata: EventMetadata;
};

/** An event ready to append. Distributes over unions, so `type` still narrows `data`. */
export type EventEnvelope<E extends Event = Event> = E extends Event<infer Type, infer Data>
  ? EnvelopeFields & { readonly type: Type; readonly data: Data }
  : never;

type RecordedFields = {
  /** Revision within the stream, from 0. */
  readonly revision: number;
  /** Opaque `$all` cursor; compare only as the event store says. */
  readonly position: string;
  /** When the store committed the event (we learned it). Set by the store, never by a decider. */
  readonly recordedAt: Date;
};

/** An event as read back from the store. */
export type RecordedEventEnvelope<E extends Event = Event> = E extends Event ? EventEnvelope<E> & RecordedFields : never;

export type EnvelopeContext = {
  readonly streamId: string;
  readonly command: CommandMetadata;
  readonly source: EventSource;
  readonly dataUse?: DataUse;
  readonly consentVersion?: number;
  /** One id per event, in order (client-supplied or made with `uuidv7`). */
  readonly eventIds: readonly string[];
  readonly schemaVersionOf: (type: string) => number;
};

/** Wraps a decider's events in envelopes whose metadata comes from the command. */
export function envelopeEvents<E extends Event>(events: readonly E[], context: EnvelopeContext): EventEnvelope<E>[] {
  if (context.eventIds.length < events.length) {
    throw new RangeError(`${events.length} events need ${events.length} event ids, got ${context.eventIds.length}`);
  }
  const { command } = context;
  const metadata: EventMetadata = {
    tenantId: command.tenantId,
    subjectId: command.subjectId,
    actor: command.actor,
    source: context.source,
    correlationId: command.correlationId,
    causationId: command.commandId,
    ...(command.onBehalfOf === undefined ? {} : { onBehalfOf: command.onBehalfOf }),
    ...(context.dataUse === undefined ? {} : { dataUse: context.dataUse }),
    ...(command.traceparent === undefined ? {} : { traceparent: command.traceparent }),
    ...(context.consentVersion === undefined ? {} : { consentVersion: context.consentVersion }),
  };
  return events.map(
    (event, i) =>
      ({
        eventId: context.eventIds[i] as string,
        type: event.type,
        schemaVersion: context.schemaVersionOf(event.type),
        streamId: context.streamId,
        data: event.data,
        metadata,
      }) as EventEnvelope<E>,
  );
}
