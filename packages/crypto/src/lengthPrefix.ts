/**
 * Unambiguous encoding of a tuple: each part as its byte length (uint32, big-endian) followed by
 * its bytes (strings as UTF-8), so ("a","bc") and ("ab","c") never encode alike.
 */
export function lengthPrefixed(parts: readonly (string | Uint8Array)[]): Buffer {
  // One allocation: sizes first, then each part written in place.
  let total = 0;
  for (const part of parts) total += 4 + (typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.byteLength);
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const part of parts) {
    if (typeof part === 'string') {
      const written = out.write(part, offset + 4, 'utf8');
      out.writeUInt32BE(written, offset);
      offset += 4 + written;
    } else {
      out.writeUInt32BE(part.byteLength, offset);
      out.set(part, offset + 4);
      offset += 4 + part.byteLength;
    }
  }
  return out;
}
