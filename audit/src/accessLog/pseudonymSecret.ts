import { readFileSync } from 'node:fs';

export const PSEUDONYM_KEY_ENV = 'AUDIT_PSEUDONYM_KEY';
export const PSEUDONYM_KEY_FILE_ENV = 'AUDIT_PSEUDONYM_KEY_FILE';

export class PseudonymSecretConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'PseudonymSecretConfigError';
  }
}

/**
 * The secret of the access log's subject pseudonyms: base64 of at least 32 random bytes, inline in
 * AUDIT_PSEUDONYM_KEY or in the file AUDIT_PSEUDONYM_KEY_FILE names. Every service writing the
 * log and the auditor API share it; it is never rotated (the pseudonyms of old records would no
 * longer match), and losing it only unlinks old records from subjects.
 */
export function loadPseudonymSecret(env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): Buffer {
  const inline = env[PSEUDONYM_KEY_ENV];
  const file = env[PSEUDONYM_KEY_FILE_ENV];
  if (inline && file) throw new PseudonymSecretConfigError(PSEUDONYM_KEY_ENV, `set only one of ${PSEUDONYM_KEY_ENV} and ${PSEUDONYM_KEY_FILE_ENV}`);
  let text: string;
  if (file) {
    try {
      text = readFile(file);
    } catch {
      throw new PseudonymSecretConfigError(PSEUDONYM_KEY_FILE_ENV, `${PSEUDONYM_KEY_FILE_ENV}: cannot read the file it names`);
    }
  } else if (inline) {
    text = inline;
  } else {
    throw new PseudonymSecretConfigError(PSEUDONYM_KEY_ENV, `${PSEUDONYM_KEY_ENV} is not set: give base64 of 32 random bytes (or a file holding it in ${PSEUDONYM_KEY_FILE_ENV})`);
  }
  const secret = Buffer.from(text.trim(), 'base64');
  if (secret.length < 32) throw new PseudonymSecretConfigError(file ? PSEUDONYM_KEY_FILE_ENV : PSEUDONYM_KEY_ENV, 'the pseudonym secret must be base64 of at least 32 bytes');
  return secret;
}
