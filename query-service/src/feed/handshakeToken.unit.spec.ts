import { AuthenticationError } from '@fitledger/auth';
import { describe, expect, it } from 'vitest';
import { handshakeToken, selectSubprotocol } from './handshakeToken';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof AuthenticationError ? error.code : 'other';
  }
};

describe('handshakeToken', () => {
  it('takes the token from Authorization: Bearer', () => {
    expect(handshakeToken({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
  });

  it('takes the token that follows the bearer subprotocol', () => {
    expect(handshakeToken({ 'sec-websocket-protocol': 'bearer, abc.def.ghi' })).toBe('abc.def.ghi');
  });

  it('refuses a bearer subprotocol without a token as malformed, and no credentials as missing', () => {
    expect(code(() => handshakeToken({ 'sec-websocket-protocol': 'bearer' }))).toBe('TOKEN_MALFORMED');
    expect(code(() => handshakeToken({ 'sec-websocket-protocol': 'graphql-ws' }))).toBe('TOKEN_MISSING');
    expect(code(() => handshakeToken({}))).toBe('TOKEN_MISSING');
  });

  it('selects the bearer subprotocol, never the token', () => {
    expect(selectSubprotocol(new Set(['bearer', 'abc.def.ghi']))).toBe('bearer');
    expect(selectSubprotocol(new Set(['abc.def.ghi']))).toBe(false);
  });
});
