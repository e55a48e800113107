/**
 * Redaction of secrets for `skua print-config` and the health extension's config endpoint: the
 * value of every key that names a secret (password, token, key, secret, credentials,
 * authorization, …) becomes "[REDACTED]", as do the passwords inside URLs
 * (`https://user:pass@host`). Paths such as `key_file`/`cert_file` and lists such as
 * `metadata_keys` are not secrets and are kept.
 */
import { isMap, type ConfMap } from './merge.js';

export const REDACTED = '[REDACTED]';

const secretKey = /(^|[_\-.])(password|passwd|pwd|pass|token|secret|key|apikey|api_key|credentials?|authorization|auth|bearer|private_key|key_pem|client_secret)$/i;
const notSecret = /(_file|_path|_keys|_env)$/i;

export function isSecretKey(key: string): boolean {
  return secretKey.test(key) && !notSecret.test(key);
}

export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (isMap(v)) {
    const out: ConfMap = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = isSecretKey(k) && x !== null && x !== undefined && x !== '' && !isMap(x) && !Array.isArray(x) ? REDACTED : redact(x);
    }
    return out;
  }
  if (typeof v === 'string') return redactUrl(v);
  return v;
}

/** `scheme://user:password@host` → `scheme://user:[REDACTED]@host`. */
export function redactUrl(s: string): string {
  return s.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/:@\s]*):([^@/\s]+)@/, (_m, pre: string) => `${pre}:${REDACTED}@`);
}
