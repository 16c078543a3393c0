/**
 * Unambiguous encoding of a tuple: each part as its byte length (uint32, big-endian) followed by
 * its bytes (strings as UTF-8), so ("a","bc") and ("ab","c") never encode alike.
 */
export function lengthPrefixed(parts: readonly (string | Uint8Array)[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}
