/**
 * The one error class of edgereward. Tests and telemetry match on `code`, never on the
 * message; the message is a sentence an operator can act on.
 *
 * Codes are `E_<AREA>_<WHAT>` (E_BUNDLE_SIGNATURE, E_ONNX_PARSE, E_LINK_DOWN, ...).
 */
export type ErrorCode = `E_${string}`;

export class EdgeError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(code: ErrorCode, message: string, opts?: ErrorOptions & { details?: Record<string, unknown> }) {
    super(`${code}: ${message}`, opts);
    this.name = 'EdgeError';
    this.code = code;
    this.details = opts?.details;
  }
}

export function isEdgeError(e: unknown, code?: ErrorCode): e is EdgeError {
  return e instanceof EdgeError && (code === undefined || e.code === code);
}

/** The message of any thrown value, for logs. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
