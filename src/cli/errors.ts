/**
 * The one error funnel: every error that reaches the CLI passes through
 * `reportError`, which prints what happened, why and what to do, and picks
 * the exit code from the one table in exit-codes.ts.
 */
import { HostmaintError, HttpError } from '../core/errors.js';
import { EXIT, exitCodeForKind, type ExitCode } from '../core/exit-codes.js';

export interface ErrorReport {
  exitCode: ExitCode;
  /** Human text for stderr (several lines). */
  text: string;
  /** Machine form for `--format json`. */
  json: Record<string, unknown>;
}

const DEFAULT_HINTS: Partial<Record<string, string>> = {
  auth: 'Check the credentials of the selected cloud (clouds.yaml / secure.yaml or OS_* variables).',
  forbidden: 'hostmaint needs an admin role on the cloud (os-services, os-hypervisors and migrations are admin APIs).',
  network: 'Check that the auth URL is right and reachable from here (VPN, proxy, firewall).',
  timeout: 'The cloud did not answer in time; retry, or raise --timeout.',
  unavailable: 'The cloud answered 503; retry later.',
  tls: 'Point --os-cacert (OS_CACERT) at the CA that signed the cloud\'s certificate; --insecure turns verification off (not recommended).',
  'not-acceptable': 'The cloud does not support the API microversions hostmaint needs.',
  usage: 'Run the command with --help for its options and examples.',
};

/** Errors of the emulator's scenario loader are configuration errors (a file the user gave). */
function normalise(err: unknown): unknown {
  if (err instanceof Error && err.name === 'ScenarioError') {
    return new HostmaintError('config', err.message.replace(/\n\s*/g, '; '), {
      hint: 'Fix the scenario file (--scenario / HOSTMAINT_DEMO_SCENARIO), or use a shipped scenario such as demo.',
    });
  }
  return err;
}

export function describeError(thrown: unknown): ErrorReport {
  const err = normalise(thrown);
  if (err instanceof HostmaintError) {
    const exitCode = exitCodeForKind(err.kind);
    const lines = [`hostmaint: ${err.message}`];
    if (err instanceof HttpError) {
      const why = [
        `${err.method} ${err.url}`,
        err.status ? `answered ${err.status}` : 'got no answer',
        err.faultMessage ? `: ${err.faultMessage}` : '',
        err.requestId ? ` (request id ${err.requestId})` : '',
      ].join(' ');
      lines.push(`  why: ${why.replace(/\s+:/, ':').trim()}`);
    } else if (err.cause instanceof Error && err.cause.message && !err.message.includes(err.cause.message)) {
      lines.push(`  why: ${err.cause.message}`);
    }
    const hint = err.hint ?? DEFAULT_HINTS[err.kind];
    if (hint) lines.push(`  what to do: ${hint}`);
    return { exitCode, text: lines.join('\n'), json: { error: { ...err.toJSON(), hint, exitCode } } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    exitCode: EXIT.UNEXPECTED,
    text: `hostmaint: unexpected error: ${message}\n  what to do: this is likely a bug; run again with -v and --log-file, and report it with the log.`,
    json: { error: { kind: 'internal', message, exitCode: EXIT.UNEXPECTED } },
  };
}

