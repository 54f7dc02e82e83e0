/**
 * The `wait-for-service` workflow step: poll Nova until the host's
 * nova-compute service reports `up` (and is not forced down), bounded by the
 * step's timeout. Its enabled/disabled status does not matter (after a drain
 * it is usually still disabled).
 *
 * With `fresh`, "up" only counts once the heartbeat (updated_at) has changed
 * since the step's first poll (or since `ctx.baseline`, recorded earlier, for
 * a resumed step): a host that has just been rebooted still looks up on its
 * last report for up to service_down_time. Comparing two Nova timestamps
 * avoids any clock skew between this machine and Nova.
 *
 * With `expectRestart`, the step first waits to see the service stop (Nova
 * reports it down or forced down, or its heartbeat does not change for
 * `stallAfterMs`), and only then for it to be up with a heartbeat newer than
 * the last one before it stopped: a maintenance command that returns before
 * the host goes down (`ssh host sudo reboot`) would otherwise let the last
 * heartbeats of the old nova-compute count as "back".
 *
 * A failed poll is logged and retried until the timeout. Sleeps are on the
 * injected clock (a VirtualClock in tests).
 *
 * Progress (WaitProgress) is handed to `onProgress` when the step first
 * starts, after its first poll and when it sees the stop, and the workflow
 * runner saves it in the run record. A resumed step (`progress`) continues it:
 * the timeout still counts from the first start; a stop seen before keeps its
 * baseline (only a newer heartbeat is "back"); a first heartbeat seen before
 * stays the `fresh` baseline. A resumed expect-restart step that had not seen
 * the stop cannot know whether the host went down and came back while no
 * hostmaint ran: it watches for a stop for `stallAfterMs` once more, and if
 * none comes, an up service with a heartbeat newer than the one the step first
 * saw is "back" (the maintenance command had ended before the step's first
 * start), said in its detail (`stopNotSeen`).
 */
import { formatDuration } from '../core/durations.js';
import type { Clock } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ComputeApi } from '../openstack/api.js';
import type { ComputeService } from '../openstack/types.js';
import type { StepOutcome, WaitForServiceStep } from '../workflow-file/types.js';
import { stepFailed, stepInterrupted, stepOk } from './outcome.js';

export interface WaitServiceContext {
  host: string;
  signal?: AbortSignal;
  /** An updated_at recorded before (a resumed step): a heartbeat must be newer than this one. */
  baseline?: string | null;
  /** What an earlier process of this step saved (a resumed step continues it). */
  progress?: WaitProgress | null;
  /** Called whenever the progress changes (the runner saves it before the step goes on). */
  onProgress?: (p: WaitProgress) => void;
  /** Called when what the step waits for changes (the live view and the events show it), with its deadline (ISO). */
  onWaiting?: (w: { waitingFor: string; deadline: string }) => void;
}

/** What a wait-for-service step remembers across a crash (saved in the run record). */
export interface WaitProgress {
  /** When the step first started (this machine's clock, ISO). */
  firstStartedAt: string;
  /** Whether a poll ever answered, and the heartbeat (Nova's updated_at) it showed. */
  polled: boolean;
  firstHeartbeat: string | null;
  /** expect-restart: the service was seen stopped; `baseline` is then its last heartbeat before the stop. */
  seenStopped: boolean;
  baseline: string | null;
  /** How many times the step was resumed. */
  resumes: number;
}

/** A saved progress as read back from a record (anything else: none). */
export function asWaitProgress(v: unknown): WaitProgress | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const strOrNull = (x: unknown) => x === null || typeof x === 'string';
  if (typeof o.firstStartedAt !== 'string' || Number.isNaN(Date.parse(o.firstStartedAt))) return null;
  if (typeof o.polled !== 'boolean' || typeof o.seenStopped !== 'boolean' || !strOrNull(o.firstHeartbeat) || !strOrNull(o.baseline)) return null;
  return { firstStartedAt: o.firstStartedAt, polled: o.polled, firstHeartbeat: (o.firstHeartbeat as string | null) ?? null, seenStopped: o.seenStopped, baseline: (o.baseline as string | null) ?? null, resumes: typeof o.resumes === 'number' ? o.resumes : 0 };
}

export interface WaitServiceDeps {
  compute: ComputeApi;
  clock: Clock;
  logger: Logger;
}

/** True when `current` is a heartbeat after `baseline` (both Nova's updated_at). */
export function isNewerHeartbeat(current: string | null, baseline: string | null): boolean {
  if (current === null || current === baseline) return false;
  if (baseline === null) return true;
  const a = Date.parse(current);
  const b = Date.parse(baseline);
  return Number.isNaN(a) || Number.isNaN(b) ? true : a > b;
}

/** Wait for the host's nova-compute to report up. Never throws. */
export async function waitForService(step: WaitForServiceStep, ctx: WaitServiceContext, deps: WaitServiceDeps): Promise<StepOutcome> {
  const { host, signal } = ctx;
  const now0 = deps.clock.now();
  const saved = ctx.progress ?? null;
  const resumed = saved !== null;
  const progress: WaitProgress = saved
    ? { ...saved, resumes: saved.resumes + 1 }
    : { firstStartedAt: new Date(now0).toISOString(), polled: false, firstHeartbeat: null, seenStopped: false, baseline: null, resumes: 0 };
  const save = () => ctx.onProgress?.({ ...progress });
  const started = Date.parse(progress.firstStartedAt);
  const resumedAt = now0;
  // The timeout counts from the first start; a resumed step always gets one more look (and, blind to a stop it may have missed, stall-after).
  const deadline = Math.max(started + step.timeoutMs, resumed ? now0 + (step.expectRestart && !progress.seenStopped ? step.stallAfterMs + step.pollIntervalMs : 0) : 0);
  // undefined: not known yet (the first successful poll sets it).
  let baseline: string | null | undefined =
    ctx.baseline !== undefined ? ctx.baseline : progress.seenStopped ? progress.baseline : progress.polled ? (step.fresh ? progress.firstHeartbeat : null) : undefined;
  let polls = 0;
  let last: ComputeService | null = null;
  let lastError: string | null = null;
  // expectRestart: whether the service was seen stopped, and since when its heartbeat has stayed the same.
  let stopped = progress.seenStopped;
  let sameSince: { updatedAt: string | null; at: number } | null = null;
  // A resumed expect-restart step that had not seen the stop: the stop may have come and gone while no hostmaint ran.
  const blind = resumed && step.expectRestart && !progress.seenStopped;
  let stopNotSeen = false;
  save();
  // What the step waits for, in words: said again each time it changes.
  let said = '';
  const say = () => {
    const newer = (t: string | null | undefined) => (t ? ` with a heartbeat newer than ${t}` : '');
    const text =
      step.expectRestart && !stopped
        ? `nova-compute on ${host} to stop (the maintenance restarting it), then to report up with a newer heartbeat`
        : step.expectRestart || step.fresh
          ? `nova-compute on ${host} to report up${newer(baseline)}`
          : `nova-compute on ${host} to report up`;
    if (text === said) return;
    said = text;
    ctx.onWaiting?.({ waitingFor: text, deadline: new Date(deadline).toISOString() });
  };

  const detail = () => ({
    waitedMs: deps.clock.now() - started,
    polls,
    lastState: last?.state ?? null,
    lastStatus: last?.status ?? null,
    lastUpdatedAt: last?.updatedAt ?? null,
    forcedDown: last?.forcedDown ?? null,
    fresh: step.fresh,
    baseline: baseline ?? null,
    firstStartedAt: progress.firstStartedAt,
    ...(progress.resumes > 0 ? { resumes: progress.resumes } : {}),
    ...(step.expectRestart ? { expectRestart: true, seenStopped: stopped } : {}),
    ...(stopNotSeen ? { stopNotSeen: true } : {}),
    ...(lastError !== null ? { lastError } : {}),
  });

  for (;;) {
    if (signal?.aborted) return stepInterrupted(detail());
    polls++;
    try {
      const list = await deps.compute.listServices({ host, binary: 'nova-compute' }, { signal });
      const svc = list.find((s) => s.host === host && s.binary === 'nova-compute') ?? null;
      if (!svc) {
        return stepFailed(`nova-compute on ${host}: no such service (is the host name right? Nova lists no nova-compute service for it)`, { ...detail(), error: 'unknown-host' });
      }
      last = svc;
      lastError = null;
      const firstSeen = baseline === undefined;
      if (firstSeen) baseline = step.fresh ? svc.updatedAt : null;
      if (!progress.polled) {
        progress.polled = true;
        progress.firstHeartbeat = svc.updatedAt;
        if (!stopped) progress.baseline = baseline ?? null;
        save();
      }
      const up = svc.state === 'up' && !svc.forcedDown;
      if (step.expectRestart && !stopped) {
        const now = deps.clock.now();
        if (!sameSince || sameSince.updatedAt !== svc.updatedAt) sameSince = { updatedAt: svc.updatedAt, at: now };
        if (!up || now - sameSince.at >= step.stallAfterMs) {
          // Stopped: from now on only a heartbeat after the last one of the old process counts.
          stopped = true;
          baseline = svc.updatedAt;
          progress.seenStopped = true;
          progress.baseline = svc.updatedAt;
          save();
          deps.logger.info(`wait-for-service ${host}: nova-compute stopped (${up ? `no heartbeat since ${svc.updatedAt ?? 'never'}` : svc.forcedDown ? 'forced down' : 'down'}); waiting for it to come back`, { host, step: step.name });
        }
      }
      // Blind (see above): no stop within stall-after of the resume, and a heartbeat newer than the first one the step saw.
      const blindBack = blind && !stopped && deps.clock.now() - resumedAt >= step.stallAfterMs && isNewerHeartbeat(svc.updatedAt, progress.firstHeartbeat);
      if (blindBack && up && !stopNotSeen) {
        stopNotSeen = true;
        deps.logger.warn(`wait-for-service ${host}: resumed without having seen nova-compute stop; it reports up with a heartbeat (${svc.updatedAt ?? 'never'}) newer than the step's first (${progress.firstHeartbeat ?? 'never'}): counted as back`, { host, step: step.name });
      }
      const restarted = !step.expectRestart || (stopped && isNewerHeartbeat(svc.updatedAt, baseline ?? null)) || blindBack;
      say();
      const fresh = restarted && (blindBack || !step.fresh || (!firstSeen && isNewerHeartbeat(svc.updatedAt, baseline ?? null)));
      deps.logger.debug(`wait-for-service ${host}: ${svc.state}${svc.forcedDown ? ' (forced down)' : ''}, updated ${svc.updatedAt ?? 'never'}`, { host, step: step.name, poll: polls });
      if (up && fresh) {
        const waited = deps.clock.now() - started;
        return stepOk(`nova-compute on ${host} is up (heartbeat ${svc.updatedAt ?? 'unknown'}) after ${formatDuration(waited)}`, detail());
      }
    } catch (e) {
      if (signal?.aborted) return stepInterrupted(detail());
      lastError = errorText(e);
      deps.logger.warn(`wait-for-service ${host}: poll failed (${lastError}); retrying`, { host, step: step.name, poll: polls });
    }
    const left = deadline - deps.clock.now();
    if (left <= 0) {
      if (step.expectRestart && !stopped && last !== null) {
        return stepFailed(
          `nova-compute on ${host} never stopped within ${formatDuration(step.timeoutMs)} (its heartbeat kept coming, last ${last.updatedAt ?? 'never'}): expect-restart waits for it to stop and come back; if the maintenance command itself waits until the host is back, set expect-restart: false`,
          detail(),
        );
      }
      return stepFailed(`nova-compute on ${host} did not report up within ${formatDuration(step.timeoutMs)} (${lastSeen(last, step.fresh, baseline ?? null, lastError)})`, detail());
    }
    try {
      await deps.clock.sleep(Math.min(step.pollIntervalMs, left), signal);
    } catch {
      return stepInterrupted(detail());
    }
  }
}

function lastSeen(s: ComputeService | null, fresh: boolean, baseline: string | null, error: string | null): string {
  if (!s) return `never seen: ${error ?? 'no answer'}`;
  const state = s.forcedDown ? `${s.state}, forced down` : s.state;
  const stale = fresh && s.state === 'up' && !s.forcedDown ? `, no heartbeat since ${baseline ?? 'the start'}` : '';
  const failing = error ? `; the last poll failed: ${error}` : '';
  return `last seen: ${state}${stale}, updated ${s.updatedAt ?? 'never'}${failing}`;
}
