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
  const started = deps.clock.now();
  const deadline = started + step.timeoutMs;
  // undefined: not known yet (the first successful poll sets it).
  let baseline: string | null | undefined = ctx.baseline === undefined ? undefined : ctx.baseline;
  let polls = 0;
  let last: ComputeService | null = null;
  let lastError: string | null = null;
  // expectRestart: whether the service was seen stopped, and since when its heartbeat has stayed the same.
  let stopped = false;
  let sameSince: { updatedAt: string | null; at: number } | null = null;

  const detail = () => ({
    waitedMs: deps.clock.now() - started,
    polls,
    lastState: last?.state ?? null,
    lastStatus: last?.status ?? null,
    lastUpdatedAt: last?.updatedAt ?? null,
    forcedDown: last?.forcedDown ?? null,
    fresh: step.fresh,
    baseline: baseline ?? null,
    ...(step.expectRestart ? { expectRestart: true, seenStopped: stopped } : {}),
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
      const up = svc.state === 'up' && !svc.forcedDown;
      if (step.expectRestart && !stopped) {
        const now = deps.clock.now();
        if (!sameSince || sameSince.updatedAt !== svc.updatedAt) sameSince = { updatedAt: svc.updatedAt, at: now };
        if (!up || now - sameSince.at >= step.stallAfterMs) {
          // Stopped: from now on only a heartbeat after the last one of the old process counts.
          stopped = true;
          baseline = svc.updatedAt;
          deps.logger.info(`wait-for-service ${host}: nova-compute stopped (${up ? `no heartbeat since ${svc.updatedAt ?? 'never'}` : svc.forcedDown ? 'forced down' : 'down'}); waiting for it to come back`, { host, step: step.name });
        }
      }
      const restarted = !step.expectRestart || (stopped && isNewerHeartbeat(svc.updatedAt, baseline ?? null));
      const fresh = restarted && (!step.fresh || (!firstSeen && isNewerHeartbeat(svc.updatedAt, baseline ?? null)));
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
