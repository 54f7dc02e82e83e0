/**
 * What `hostmaint status` and `history` show of saved workflow runs
 * ('run') and rolling runs ('rolling'): the command as words, the hosts, the
 * approval a waiting run waits for, and its steps or hosts, read from the
 * record's result once it ended, else from its snapshot (the machine's
 * context). Read defensively: a record of another version may lack fields.
 */
import { clean } from './ansi.js';

type Rec = Record<string, unknown>;

function obj(v: unknown): Rec | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function context(r: Rec): Rec | null {
  return obj(obj(r.snapshot)?.context);
}

export interface SavedStep {
  name: string;
  type: string;
  status: string;
  exitCode: number | null;
  message: string;
  compensation: boolean;
}

export interface SavedHost {
  host: string;
  status: string;
  exitCode: number | null;
  childRunId: string;
  message: string;
}

/** The workflow's name of a run or rolling record (its options, its result, its snapshot). */
export function workflowName(r: Rec): string {
  return str(obj(r.options)?.workflow) ?? str(obj(r.result)?.workflow) ?? str(context(r)?.workflow) ?? '?';
}

/** The hosts of a rolling record, in order. */
export function rollingHosts(r: Rec): string[] {
  if (Array.isArray(r.hosts)) return r.hosts.filter((h): h is string => typeof h === 'string');
  return savedHosts(r).map((h) => h.host);
}

/** "compute-01, compute-02, +3 more" (at most `max` names). */
export function abbreviateHosts(hosts: string[], max = 2): string {
  if (hosts.length === 0) return '*';
  const shown = hosts.slice(0, max).map(clean).join(', ');
  return hosts.length > max ? `${shown}, +${hosts.length - max} more` : shown;
}

/** The COMMAND column: "drain", "run cycle", "rolling cycle (3 hosts)". */
export function commandLabel(r: Rec): string {
  const command = str(r.command) ?? '?';
  if (command === 'run') return `run ${clean(workflowName(r))}`;
  if (command === 'rolling') {
    const n = rollingHosts(r).length;
    return `rolling ${clean(workflowName(r))} (${n} host${n === 1 ? '' : 's'})`;
  }
  return command;
}

/** The HOST column: the host, or a rolling run's hosts abbreviated. */
export function hostLabel(r: Rec): string {
  return str(r.command) === 'rolling' ? abbreviateHosts(rollingHosts(r)) : clean(str(r.host) ?? '?');
}

/** Whether the record concerns `host` (a rolling run concerns each of its hosts). */
export function concernsHost(r: Rec, host: string): boolean {
  return str(r.host) === host || (str(r.command) === 'rolling' && rollingHosts(r).includes(host));
}

/** The step a waiting workflow run waits at (its snapshot, else its state reason). */
export function waitingStep(r: Rec): string | null {
  const fromSnapshot = str(obj(context(r)?.approval)?.step) ?? str(obj(obj(r.result)?.approval)?.step);
  if (fromSnapshot) return fromSnapshot;
  const m = /approval at step (.+)$/.exec(str(r.stateReason) ?? '');
  return m ? (m[1] as string) : null;
}

/** "waiting for approval at <step>: hostmaint continue <id>" (a rolling run: the hosts that wait). */
export function waitingText(r: Rec): string {
  const id = str(r.runId) ?? '?';
  if (str(r.command) === 'rolling') {
    const waiting = savedHosts(r).filter((h) => h.status === 'waiting').map((h) => h.host);
    return `waiting for approval${waiting.length ? ` (${abbreviateHosts(waiting)})` : ''}: hostmaint continue ${id}`;
  }
  return `waiting for approval at ${clean(waitingStep(r) ?? '?')}: hostmaint continue ${id}`;
}

/** The steps of a workflow run: from its result once it ended, else from its snapshot; the approve step it waits at last. */
export function savedSteps(r: Rec): SavedStep[] {
  const list = obj(r.result)?.steps ?? context(r)?.results;
  const steps: SavedStep[] = (Array.isArray(list) ? list : []).map((x) => {
    const s = obj(x) ?? {};
    const comp = str(s.compensation);
    return {
      name: `${comp ? `${comp}/` : ''}${str(s.name) ?? '?'}`,
      type: str(s.type) ?? '?',
      status: str(s.status) ?? '?',
      exitCode: typeof s.exitCode === 'number' ? s.exitCode : null,
      message: str(s.message) ?? '',
      compensation: comp !== null,
    };
  });
  const at = str(r.state) === 'waiting' ? waitingStep(r) : null;
  if (at && !steps.some((s) => s.name === at && s.status === 'ok')) {
    const message = str(obj(context(r)?.approval)?.message) ?? '';
    steps.push({ name: at, type: 'approve', status: 'waiting', exitCode: 8, message, compensation: false });
  }
  return steps;
}

/** The steps of the workflow (all of them, also those not run yet), from the snapshot. */
export function plannedSteps(r: Rec): number | null {
  const steps = context(r)?.steps;
  return Array.isArray(steps) ? steps.length : null;
}

/** The hosts of a rolling run, with each host's own run: from its result once it ended, else from its snapshot. */
export function savedHosts(r: Rec): SavedHost[] {
  const list = obj(r.result)?.hosts ?? context(r)?.hosts;
  return (Array.isArray(list) ? list : []).map((x) => {
    const h = obj(x) ?? {};
    return {
      host: str(h.host) ?? '?',
      status: str(h.status) ?? '?',
      exitCode: typeof h.exitCode === 'number' ? h.exitCode : null,
      childRunId: str(h.childRunId) ?? '',
      message: str(h.message) ?? '',
    };
  });
}

/** The PROGRESS column of a workflow or rolling run: "5/8 steps", "1/3 hosts". */
export function runProgress(r: Rec): string | null {
  if (str(r.command) === 'run') {
    const done = savedSteps(r).filter((s) => s.status === 'ok' && !s.compensation).length;
    const total = plannedSteps(r);
    return total !== null ? `${done}/${total} steps` : `${done} steps`;
  }
  if (str(r.command) === 'rolling') {
    const hosts = savedHosts(r);
    const total = hosts.length || rollingHosts(r).length;
    return `${hosts.filter((h) => h.status === 'done').length}/${total} hosts`;
  }
  return null;
}
