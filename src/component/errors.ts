/**
 * Errors on the data path are typed: permanent (the data is bad; retrying will not help) or
 * retryable (capacity, a backend down; the sender may retry, after `retryAfterMs` when known).
 * Receivers map them to protocol status: permanent → HTTP 400 / gRPC INVALID_ARGUMENT,
 * retryable → HTTP 503 + Retry-After / gRPC UNAVAILABLE (+ RetryInfo).
 * An untyped error is treated as retryable: it is safer to ask for a retry than to lose data.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  /** A hint for the sender, in milliseconds; undefined when unknown. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
