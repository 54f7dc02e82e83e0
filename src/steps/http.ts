/**
 * The `http` workflow step: a POST or PUT of a JSON payload to a webhook
 * (CMDB, chat, monitoring silence ...).
 *
 * URL, header values and every string in the payload are substituted (plain);
 * values from {env:NAME} are secrets: the outcome names the URL *template*,
 * and the response snippet and message are redacted. Redirects are not
 * followed (a 3xx fails: a webhook that moved should be reconfigured, and a
 * redirect must not carry the headers elsewhere). TLS is verified.
 *
 * 2xx is ok. A network error, a timeout, 429 or 5xx is retried (step.retries
 * extra attempts, backoff 1 s, 2 s, 4 s ... capped at 30 s, slept on the
 * injected clock); any other status fails at once.
 */
import axios from 'axios';
import { formatDuration } from '../core/durations.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { HttpStep, PlaceholderValues, StepOutcome } from '../workflow-file/types.js';
import { lastLine, stepFailed, stepInterrupted, stepOk, stepSetupFailed } from './outcome.js';
import { redactSecrets, substitute, substituteDeep } from './substitute.js';

/** Characters of the response body kept in the outcome. */
export const SNIPPET_CHARS = 300;
/** The most of a response body read (a 200 MiB answer grew hostmaint to 731 MB): past it the step fails. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;

export interface HttpContext {
  vars: PlaceholderValues;
  /** Source of {env:NAME} (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** More values to redact from the outcome (the cloud's password, token ...). */
  secrets?: readonly string[];
}

export interface HttpDeps {
  clock: Clock;
  logger: Logger;
  /** The wait between attempts (default: deps.clock.sleep). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Wait before retry `n` (1-based): 1 s, 2 s, 4 s ... capped. */
export function backoffMs(n: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, n - 1));
}

type AttemptResult =
  | { kind: 'response'; status: number; body: string }
  | { kind: 'error'; timeout: boolean; aborted: boolean; tooLarge: boolean; code: string; message: string };

function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function bodyText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined || data === null) return '';
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

async function attemptOnce(step: HttpStep, url: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined): Promise<AttemptResult> {
  try {
    const r = await axios.request({
      method: step.method,
      url,
      headers,
      data: body,
      timeout: step.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      // Read no more than this: axios stops reading and rejects past it.
      maxContentLength: MAX_RESPONSE_BYTES,
      ...(signal ? { signal } : {}),
    });
    return { kind: 'response', status: r.status, body: bodyText(r.data) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const code = err.code ?? 'ERROR';
    const aborted = axios.isCancel(e) || code === 'ERR_CANCELED' || signal?.aborted === true;
    const timeout = !aborted && (code === 'ECONNABORTED' || code === 'ETIMEDOUT');
    const tooLarge = !aborted && /maxContentLength/.test(err.message ?? '');
    return { kind: 'error', timeout, aborted, tooLarge, code, message: err.message ?? String(e) };
  }
}

/** Send an http step (with its retries) and say how it ended. Never throws. */
export async function runHttpStep(step: HttpStep, ctx: HttpContext, deps: HttpDeps): Promise<StepOutcome> {
  const started = deps.clock.now();
  const base = { status: null as number | null, attempts: 0, url: step.url, method: step.method, responseSnippet: '' };
  const env = ctx.env ?? process.env;
  const secrets = new Set<string>((ctx.secrets ?? []).filter((s) => s.length >= 4));
  let url: string;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  try {
    const u = substitute(step.url, ctx.vars, env, 'plain');
    url = u.text;
    u.secrets.forEach((s) => secrets.add(s));
    for (const [k, v] of Object.entries(step.headers)) {
      const h = substitute(v, ctx.vars, env, 'plain');
      headers[k] = h.text;
      h.secrets.forEach((s) => secrets.add(s));
    }
    if (step.payload !== undefined && step.payload !== null) {
      const p = substituteDeep(step.payload, ctx.vars, env);
      p.secrets.forEach((s) => secrets.add(s));
      body = JSON.stringify(p.value);
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
  } catch (e) {
    return stepSetupFailed(`http ${step.name}`, e, [...secrets], base);
  }
  const secretList = [...secrets];
  const clean = (text: string) => redactSecrets(text, secretList);
  const sleep = deps.sleep ?? ((ms: number, signal?: AbortSignal) => deps.clock.sleep(ms, signal));
  const total = step.retries + 1;
  const what = `http ${step.name}: ${step.method}`;

  for (let attempt = 1; ; attempt++) {
    if (ctx.signal?.aborted) return stepInterrupted({ ...base, attempts: attempt - 1, durationMs: deps.clock.now() - started });
    const r = await attemptOnce(step, url, headers, body, ctx.signal);
    const detail = {
      ...base,
      attempts: attempt,
      durationMs: deps.clock.now() - started,
      status: r.kind === 'response' ? r.status : null,
      responseSnippet: r.kind === 'response' ? clean(r.body).slice(0, SNIPPET_CHARS) : '',
      ...(r.kind === 'error' ? { error: r.code, timedOut: r.timeout, ...(r.tooLarge ? { responseTooLarge: true, maxResponseBytes: MAX_RESPONSE_BYTES } : {}) } : {}),
    };
    if (r.kind === 'error' && (r.aborted || ctx.signal?.aborted)) return stepInterrupted(detail);

    let failure: string;
    let retry: boolean;
    let line = '';
    if (r.kind === 'response') {
      if (r.status >= 200 && r.status < 300) {
        return stepOk(`${what} answered ${r.status}${attempt > 1 ? ` (attempt ${attempt}/${total})` : ''}`, detail);
      }
      const redirect = r.status >= 300 && r.status < 400;
      failure = `answered ${r.status}${redirect ? ' (redirects are not followed)' : ''}`;
      retry = retryableStatus(r.status);
      if (!redirect) line = lastLine(clean(r.body).slice(0, SNIPPET_CHARS), 120);
    } else if (r.tooLarge) {
      failure = `answered with a body larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB: not read further`;
      retry = false;
    } else {
      failure = r.timeout ? `no answer within ${formatDuration(step.timeoutMs)}` : `request failed: ${clean(r.message)}`;
      retry = true;
    }
    const message = `${what} ${failure} (attempt ${attempt}/${total})${line ? `: ${line}` : ''}`;
    if (!retry || attempt >= total) return stepFailed(message, detail);
    const wait = backoffMs(attempt);
    deps.logger.info(`${message}; retrying in ${formatDuration(wait)}`, { step: step.name });
    try {
      await sleep(wait, ctx.signal);
    } catch {
      return stepInterrupted(detail);
    }
  }
}
