/**
 * The one error model of hostmaint. Every failure that reaches the CLI is a
 * HostmaintError with a `kind`; src/cli/errors.ts maps kinds to messages and
 * exit codes (docs/exit-codes.md). No raw AxiosError leaves src/openstack/.
 */
export type ErrorKind =
  // input and configuration (exit 2)
  | 'usage'
  | 'config'
  | 'unknown-host'
  // the cloud refused or could not be reached (exit 6 for auth/network class)
  | 'auth'
  | 'forbidden'
  | 'tls'
  | 'network'
  | 'timeout'
  | 'unavailable'
  // HTTP outcomes a caller may handle
  | 'not-found'
  | 'conflict'
  | 'bad-request'
  | 'not-acceptable'
  | 'server-error'
  | 'unknown-outcome'
  // workflow outcomes
  | 'preflight'
  | 'partial'
  | 'ownership'
  | 'host-busy'
  | 'state'
  | 'step-failed'
  | 'interrupted'
  // the operator answered no to the confirmation (exit 9)
  | 'not-confirmed'
  | 'internal';

export interface ErrorOptions {
  retryable?: boolean;
  /** What the user can do about it: one or two sentences. */
  hint?: string;
  cause?: unknown;
  /** Extra, serialisable facts (never secrets). */
  details?: Record<string, unknown>;
}

/** Brand that survives duplicate module instances (dynamic imports under a loader, bundling). */
const BRAND = Symbol.for('hostmaint.error');
const HTTP_BRAND = Symbol.for('hostmaint.http-error');

export class HostmaintError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    const brands = value as Record<symbol, unknown>;
    if (this === HostmaintError) return brands[BRAND] === true;
    if (this.name === 'HttpError') return brands[HTTP_BRAND] === true;
    return false;
  }

  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HostmaintError';
    this.kind = kind;
    this.retryable = opts.retryable ?? false;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, message: this.message, hint: this.hint, retryable: this.retryable, ...this.details };
  }
}

export interface HttpErrorFacts {
  /** HTTP status, 0 when no response arrived (network error, timeout, abort). */
  status: number;
  method: string;
  /** URL with no secret in it (no token, no password, no query credentials). */
  url: string;
  service: string;
  requestId?: string | undefined;
  /** The service's own message, e.g. Nova's `conflictingRequest.message`. */
  faultMessage?: string | undefined;
}

export class HttpError extends HostmaintError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly service: string;
  readonly requestId: string | undefined;
  readonly faultMessage: string | undefined;

  constructor(kind: ErrorKind, message: string, facts: HttpErrorFacts, opts: ErrorOptions = {}) {
    super(kind, message, opts);
    this.name = 'HttpError';
    this.status = facts.status;
    this.method = facts.method;
    this.url = facts.url;
    this.service = facts.service;
    this.requestId = facts.requestId;
    this.faultMessage = facts.faultMessage;
    Object.defineProperty(this, HTTP_BRAND, { value: true, enumerable: false });
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      method: this.method,
      url: this.url,
      service: this.service,
      requestId: this.requestId,
      faultMessage: this.faultMessage,
    };
  }
}

export function isHostmaintError(e: unknown): e is HostmaintError {
  return e instanceof HostmaintError;
}

export function isHttpError(e: unknown, kind?: ErrorKind): e is HttpError {
  return e instanceof HttpError && (kind === undefined || e.kind === kind);
}

/** Best-effort text of any thrown value, for outcomes stored as data. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) {
    const rid = e.requestId ? ` [${e.requestId}]` : '';
    return `${e.message}${rid}`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Bad input from the user (exit 2): what is wrong, and what to do instead. */
export function usageError(message: string, hint?: string): HostmaintError {
  return new HostmaintError('usage', message, { hint: hint ?? 'Run the command with --help for its options and examples.' });
}
