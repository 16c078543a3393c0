import type { Position } from './eventStore';

const HEX32 = /^[0-9a-f]{32}$/;

/** Packs a PostgreSQL (transaction id, sequence) pair into one comparable cursor. */
export function encodePgPosition(txId: string | bigint | number, seq: string | bigint | number): Position {
  return (BigInt(txId).toString(16).padStart(16, '0') + BigInt(seq).toString(16).padStart(16, '0')) as Position;
}

/** Inverse of encodePgPosition; decimal strings ready for SQL parameters. */
export function decodePgPosition(position: Position): { txId: string; seq: string } {
  if (!isPosition(position)) throw new TypeError('not a valid position');
  return { txId: BigInt(`0x${position.slice(0, 16)}`).toString(), seq: BigInt(`0x${position.slice(16)}`).toString() };
}

export function isPosition(value: unknown): value is Position {
  return typeof value === 'string' && HEX32.test(value);
}
