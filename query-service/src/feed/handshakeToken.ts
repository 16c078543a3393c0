import { AuthenticationError, bearerToken } from '@fitledger/auth';
import type { IncomingHttpHeaders } from 'node:http';

/** Subprotocol a browser offers ahead of its token (`new WebSocket(url, ['bearer', token])`); the server selects it. */
export const BEARER_SUBPROTOCOL = 'bearer';

/**
 * The access token of a websocket handshake: `Authorization: Bearer <token>`, or, for browsers
 * (which cannot set headers on a WebSocket), `Sec-WebSocket-Protocol: bearer, <token>`. Never
 * from the query string: URLs end up in logs, proxies and browser history.
 */
export function handshakeToken(headers: IncomingHttpHeaders): string {
  if (headers.authorization !== undefined) return bearerToken(headers.authorization);
  const offered = headers['sec-websocket-protocol'];
  if (typeof offered === 'string') {
    const protocols = offered.split(',').map((p) => p.trim()).filter((p) => p !== '');
    const at = protocols.indexOf(BEARER_SUBPROTOCOL);
    if (at !== -1) {
      const token = protocols[at + 1];
      if (token === undefined) throw new AuthenticationError('TOKEN_MALFORMED', 'the bearer subprotocol is not followed by a token');
      return bearerToken(`Bearer ${token}`);
    }
  }
  return bearerToken(undefined);
}

/** ws `handleProtocols`: answer with `bearer` when offered, never echo the token. */
export function selectSubprotocol(protocols: Set<string>): string | false {
  return protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false;
}
