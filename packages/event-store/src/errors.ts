/** Base class of the store's typed errors; `code` is stable and maps to problem+json. */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

/** The stream was not at the expected revision. */
export class WrongExpectedRevisionError extends EventStoreError {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamId: string,
    readonly expected: string | number,
    readonly actual: number | 'no-stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** An event id was already used for a different event (other content or other stream). */
export class IdempotencyConflictError extends EventStoreError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} was already used for a different event`);
    this.name = 'IdempotencyConflictError';
  }
}

/** The stream was tombstoned. */
export class StreamDeletedError extends EventStoreError {
  readonly code = 'STREAM_DELETED';
  constructor(readonly streamId: string) {
    super(`stream ${streamId} is deleted`);
    this.name = 'StreamDeletedError';
  }
}

/** The input to an append was invalid (empty batch, bad id, oversized batch...). */
export class InvalidAppendError extends EventStoreError {
  readonly code = 'INVALID_APPEND';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppendError';
  }
}
