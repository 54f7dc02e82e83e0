/**
 * Fake actors for machine tests: each records its inputs and answers from a script.
 * Stubs on purpose: these tests check the state charts (transitions, guards,
 * persistence) on xstate's SimulatedClock, apart from any cloud; the real actors
 * run against the emulator (test/unit/actors/, test/emulator/).
 */
import { fromPromise, SimulatedClock } from 'xstate';
import { newRun } from '../../../src/machines/pool.js';
import type { DisableInput, DisableOutput, HostRef, InstanceRun, PauseInput, PoolTickInput, PoolTickOutput, PreflightInput, PreflightReport, ResolveOutput, RestoreInput, RestoreOutput, Verification, VerifyInput } from '../../../src/machines/actor-io.js';
import type { ServiceRecord } from '../../../src/machines/records.js';
import type { DrainEventDraft } from '../../../src/machines/events.js';
import type { Classification, InstancePlan } from '../../../src/machines/plan.js';

export const svc = (o: Partial<ServiceRecord> = {}): ServiceRecord => ({
  id: 'svc-1',
  host: 'compute-01',
  zone: 'nova',
  status: 'enabled',
  state: 'up',
  disabledReason: null,
  forcedDown: false,
  ...o,
});

export const ref = (o: Partial<ServiceRecord> = {}): HostRef => ({
  host: 'compute-01',
  service: svc(o),
  hypervisor: { id: 'hv-1', hostname: 'compute-01.example.org' },
  provider: { uuid: 'rp-1', name: 'compute-01.example.org' },
});

export function cls(id: string, c: Classification['class'] = 'live', o: Partial<Classification> = {}): Classification {
  return {
    serverId: id,
    name: id,
    projectId: 'p',
    status: c === 'cold' ? 'SHUTOFF' : 'ACTIVE',
    vmState: 'active',
    taskState: null,
    locked: false,
    class: c,
    reason: `${c}`,
    category: null,
    remedy: null,
    override: null,
    blocking: false,
    hardware: [],
    adopt: false,
    notes: [],
    ...o,
  };
}

export function plan(id: string, target = 'compute-02'): InstancePlan {
  return { serverId: id, name: id, method: 'live', request: { VCPU: 1 }, target, alternatives: [], fits: true, reason: null };
}

export function report(ok: boolean, ids: string[] = ['vm-1', 'vm-2']): PreflightReport {
  return {
    ok,
    instances: ids.map((i) => cls(i)),
    targets: [],
    plan: ids.map((i) => plan(i)),
    findings: ok ? [] : [{ severity: 'error', kind: 'capacity', category: null, serverId: 'vm-1', serverName: 'vm-1', host: null, message: 'vm-1: needs 8 VCPU', remedy: null, override: null }],
    blocking: ok ? [] : [{ kind: 'capacity', category: null, message: 'instances that fit on no target: vm-1', override: null, servers: [{ id: 'vm-1', name: 'vm-1', reason: 'needs 8 VCPU', remedy: null }], hosts: [] }],
    warnings: [],
    waitedMs: 0,
  };
}

export interface Recorder {
  calls: Record<string, unknown[]>;
  clock: SimulatedClock;
}

type Answer<I, O> = O | ((input: I, n: number) => O | Promise<O>);

async function answer<I, O>(a: Answer<I, O>, input: I, n: number): Promise<O> {
  return typeof a === 'function' ? (a as (i: I, n: number) => O | Promise<O>)(input, n) : a;
}

export interface FakeScript {
  resolve?: Answer<{ host: string }, ResolveOutput>;
  disable?: Answer<DisableInput, DisableOutput>;
  preflight?: Answer<PreflightInput, PreflightReport>;
  restore?: Answer<RestoreInput, RestoreOutput>;
  tick?: Answer<PoolTickInput, PoolTickOutput>;
  verify?: Answer<VerifyInput, Verification>;
}

/** A tick that finishes one pending/in-flight instance per call (in-flight first, then done). */
export function progressingTick(input: PoolTickInput): PoolTickOutput {
  const instances: InstanceRun[] = input.instances.map((r) => ({ ...r }));
  const events: DrainEventDraft[] = [];
  const next = instances.find((r) => r.phase !== 'done' && r.phase !== 'failed');
  if (next) {
    if (next.phase === 'pending') {
      next.phase = 'running';
      next.attempts += 1;
      next.firstStartedAt = 1000;
      events.push({ type: 'migration-started', serverId: next.serverId, name: next.name, method: next.method, attempt: next.attempts, target: null, adopted: false, runId: input.runId, host: input.host });
    } else {
      next.phase = 'done';
      next.to = 'compute-02';
      next.finishedAt = 2000;
      events.push({ type: 'migration-completed', serverId: next.serverId, name: next.name, method: next.method, from: next.source, to: 'compute-02', attempt: next.attempts, durationMs: 1000, runId: input.runId, host: input.host });
    }
  }
  return { instances, events, error: null, at: 0, service: null };
}

export const emptyVerification: Verification = { empty: true, leftovers: [], service: null, checks: { servers: 0, hypervisorServers: 0, allocations: 0, unfinishedMigrations: 0 } };

export function fakeDrainActors(script: FakeScript = {}, clock = new SimulatedClock()) {
  const rec: Recorder = { calls: {}, clock };
  const log = (name: string, input: unknown) => {
    (rec.calls[name] ??= []).push(structuredClone(input));
    return rec.calls[name]!.length - 1;
  };
  const actors = {
    resolveHost: fromPromise<ResolveOutput, { host: string }>(async ({ input }) => {
      const n = log('resolveHost', input);
      return answer(script.resolve ?? { found: true, ref: ref(), suggestions: [], warnings: [], markerRun: null }, input, n);
    }),
    disableService: fromPromise<DisableOutput, DisableInput>(async ({ input }) => {
      const n = log('disableService', input);
      const dflt: DisableOutput = {
        kind: 'done',
        before: input.service,
        after: input.intent === 'disable' ? { ...input.service, status: 'disabled', disabledReason: `hostmaint:${input.runId}: ${input.reason}` } : input.service,
        changed: input.intent === 'disable',
      };
      return answer(script.disable ?? dflt, input, n);
    }),
    preflight: fromPromise<PreflightReport, PreflightInput>(async ({ input }) => {
      const n = log('preflight', input);
      return answer(script.preflight ?? report(true), input, n);
    }),
    restoreService: fromPromise<RestoreOutput, RestoreInput>(async ({ input }) => {
      const n = log('restoreService', input);
      const dflt: RestoreOutput = input.mayEnable
        ? { after: { ...input.service, status: 'enabled', disabledReason: null }, action: 'enabled', note: null }
        : { after: input.service, action: 'left-disabled', note: null };
      return answer(script.restore ?? dflt, input, n);
    }),
    poolTick: fromPromise<PoolTickOutput, PoolTickInput>(async ({ input }) => {
      const n = log('poolTick', input);
      return answer(script.tick ?? progressingTick, input, n);
    }),
    pause: fromPromise<void, PauseInput>(({ input, signal }) => {
      log('pause', input);
      return new Promise<void>((resolve) => {
        const id = clock.setTimeout(resolve, input.ms);
        signal.addEventListener('abort', () => clock.clearTimeout(id));
      });
    }),
    verifyEmpty: fromPromise<Verification, VerifyInput>(async ({ input }) => {
      const n = log('verifyEmpty', input);
      return answer(script.verify ?? emptyVerification, input, n);
    }),
  };
  return { actors, rec };
}

export function runs(ids: string[]): InstanceRun[] {
  return ids.map((id) => newRun({ serverId: id, name: id, method: 'live', source: 'compute-01', originalStatus: 'ACTIVE', plannedTarget: 'compute-02', pinnedHosts: [] }));
}

/** Let promise actors settle. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
