import { describe, expect, it } from 'vitest';
import { envelopeEvents, type CommandMetadata, type Event } from './envelope';

const command: CommandMetadata = {
  now: new Date('2025-03-03T07:00:00.000Z'),
  actor: { sub: 'u-trainer', role: 'trainer' },
  onBehalfOf: { sub: 'u-client', role: 'client' },
  tenantId: 't-1',
  subjectId: 's-1',
  commandId: 'c-1',
  correlationId: 'r-1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
};

describe('envelopeEvents', () => {
  it('wraps each event with its id, schema version, stream and the command metadata', () => {
    const events: Event<'A' | 'B', { n: number }>[] = [
      { type: 'A', data: { n: 1 } },
      { type: 'B', data: { n: 2 } },
    ];
    const envelopes = envelopeEvents(events, {
      streamId: 'workout-1',
      command,
      source: { kind: 'device', provider: 'garmin' },
      dataUse: { subjectOnly: true, noMl: true },
      consentVersion: 4,
      eventIds: ['e-1', 'e-2'],
      schemaVersionOf: (type) => (type === 'A' ? 1 : 2),
    });
    expect(envelopes).toEqual([
      {
        eventId: 'e-1',
        type: 'A',
        schemaVersion: 1,
        streamId: 'workout-1',
        data: { n: 1 },
        metadata: {
          tenantId: 't-1',
          subjectId: 's-1',
          actor: { sub: 'u-trainer', role: 'trainer' },
          onBehalfOf: { sub: 'u-client', role: 'client' },
          source: { kind: 'device', provider: 'garmin' },
          dataUse: { subjectOnly: true, noMl: true },
          correlationId: 'r-1',
          causationId: 'c-1',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          consentVersion: 4,
        },
      },
      expect.objectContaining({ eventId: 'e-2', type: 'B', schemaVersion: 2 }),
    ]);
  });

  it('refuses to wrap more events than it was given ids for', () => {
    expect(() =>
      envelopeEvents([{ type: 'A', data: {} }], { streamId: 's', command, source: { kind: 'manual' }, eventIds: [], schemaVersionOf: () => 1 }),
    ).toThrow(RangeError);
  });
});
