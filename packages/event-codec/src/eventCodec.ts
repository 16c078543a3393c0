import { SubjectKeyDestroyedError, type JsonObject as CryptoJsonObject, type PhiCodec } from '@fitledger/crypto';
import type { EventEnvelope, EventMetadata, EventRegistry, RecordedEventEnvelope } from '@fitledger/domain';
import type { JsonObject, NewEvent, RecordedEvent } from '@fitledger/event-store';

/** A stored event whose subject was erased: its data can no longer be read, its envelope remains. */
export interface ErasedEvent {
  readonly erased: true;
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: string;
  readonly recordedAt: Date;
  readonly metadata: EventMetadata;
}

export type DecodedEvent = (RecordedEventEnvelope & { readonly erased?: false }) | ErasedEvent;

/**
 * Between domain envelopes and stored events: seals PHI with the subject's key on the way in (from
 * the very first append) and opens + upcasts on the way out. Metadata stays in clear and holds only
 * opaque ids, types, system times and flags.
 */
export class EventCodec {
  constructor(
    private readonly phi: PhiCodec,
    private readonly registry: EventRegistry,
  ) {}

  async encode(envelope: EventEnvelope): Promise<NewEvent> {
    const { type, schemaVersion, metadata } = envelope;
    const subjectId = metadata.subjectId;
    const sealed = await this.phi.seal(subjectId, type, schemaVersion, envelope.data as CryptoJsonObject, this.registry.plainFields(type));
    return {
      eventId: envelope.eventId,
      type,
      schemaVersion,
      data: sealed.data,
      metadata: stripUndefined(metadata) as JsonObject,
      contentDigest: sealed.contentDigest,
    };
  }

  encodeAll(envelopes: readonly EventEnvelope[]): Promise<NewEvent[]> {
    return Promise.all(envelopes.map((e) => this.encode(e)));
  }

  async decode(recorded: RecordedEvent): Promise<DecodedEvent> {
    const metadata = recorded.metadata as unknown as EventMetadata;
    try {
      const opened = await this.phi.open(metadata.subjectId, recorded.type, recorded.schemaVersion, recorded.data as CryptoJsonObject);
      const data = this.registry.read(recorded.type, recorded.schemaVersion, opened);
      return {
        eventId: recorded.eventId,
        type: recorded.type,
        schemaVersion: this.registry.currentVersion(recorded.type),
        streamId: recorded.streamId,
        revision: recorded.revision,
        position: recorded.position,
        recordedAt: recorded.recordedAt,
        data,
        metadata,
      };
    } catch (error) {
      if (error instanceof SubjectKeyDestroyedError) {
        return {
          erased: true,
          eventId: recorded.eventId,
          type: recorded.type,
          streamId: recorded.streamId,
          revision: recorded.revision,
          position: recorded.position,
          recordedAt: recorded.recordedAt,
          metadata,
        };
      }
      throw error;
    }
  }

  decodeAll(events: readonly RecordedEvent[]): Promise<DecodedEvent[]> {
    return Promise.all(events.map((e) => this.decode(e)));
  }
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
