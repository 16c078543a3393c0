const MAX_RETURN_PATH_LENGTH = 2048;

/**
 * Where to send the browser after login: only a path on this origin (`/…`), never a URL, a
 * protocol-relative `//host` or a `/\host` that browsers read as one — an open redirect after login
 * is a phishing tool (OWASP Unvalidated Redirects). Anything else becomes `fallback`.
 */
export function safeReturnPath(raw: unknown, fallback = '/'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RETURN_PATH_LENGTH) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return fallback;
  // Control characters (tab and newline are dropped by URL parsers, which could join `/` and `/host`).
  if (/\p{Cc}/u.test(raw)) return fallback;
  const resolved = new URL(raw, 'http://return.invalid');
  if (resolved.origin !== 'http://return.invalid') return fallback;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
