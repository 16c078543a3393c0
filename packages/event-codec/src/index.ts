export { EventCodec } from './eventCodec';
export type { DecodedEvent, ErasedEvent } from './eventCodec';
