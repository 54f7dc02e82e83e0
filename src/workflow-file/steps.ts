/**
 * Every step type and its fields, in one table: the schema, the normaliser
 * and docs/workflows.md are built from it.
 */
import type { StepType } from './types.js';

export type FieldKind =
  | { kind: 'duration'; minMs: number; maxMs: number }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'string' }
  | { kind: 'string-list' }
  | { kind: 'command' }
  | { kind: 'string-map' }
  | { kind: 'json' };

export type FieldDef = FieldKind & {
  /** File key. */
  key: string;
  /** Key in the step model. */
  model: string;
  required: boolean;
  /** Model value (ms for durations); undefined for required fields. */
  default?: unknown;
  description: string;
};

export interface StepTypeDef {
  type: StepType;
  /** One paragraph for the docs and the schema. */
  description: string;
  fields: FieldDef[];
  /** May be used in a compensation. */
  compensation: boolean;
}

const H = 3_600_000;

/** The four steps the engine runs together as one drain. */
export const DRAIN_STEPS: readonly StepType[] = ['disable', 'preflight', 'migrate', 'verify-empty'];

export const COMMON_FIELDS: FieldDef[] = [
  { key: 'name', model: 'name', kind: 'string', required: false, description: 'Unique name of the step in the workflow (letters, digits, . _ -). Default: its type, then type-2, type-3 ... for repeats' },
  { key: 'description', model: 'description', kind: 'string', required: false, default: null, description: 'What the step is for, shown by `workflow show` and in run output' },
  { key: 'on-failure', model: 'onFailure', kind: 'string', required: false, default: 'stop', description: 'When the step fails: stop (end the run here), continue (go on with the next step; not allowed on disable, preflight, migrate and verify-empty), or the name of a compensation (run it, then stop)' },
];

export const STEP_TYPES: readonly StepTypeDef[] = [
  {
    type: 'disable',
    compensation: false,
    description: 'Disable the nova-compute service (reason "hostmaint:<run-id>: <reason>"), so the scheduler sends it no new instances. Adopts an earlier hostmaint disable of the same host; drains under a foreign one but never enables it.',
    fields: [],
  },
  {
    type: 'preflight',
    compensation: false,
    description: 'Read-only check: classify every instance, check every target, make a placement plan. Refuses (exit 3) when something would block the drain; with disable before it, the service is put back.',
    fields: [],
  },
  {
    type: 'migrate',
    compensation: false,
    description: 'Move every instance off the host (live migration; cold migration or shelve-offload per the stopped/shelved policies), with the concurrency, timeout and retry policies.',
    fields: [],
  },
  {
    type: 'verify-empty',
    compensation: false,
    description: 'Check that the host is empty: no server, no hypervisor server, no Placement allocation, no unfinished migration. Fails (exit 4) when anything is left.',
    fields: [],
  },
  {
    type: 'exec',
    compensation: true,
    description:
      'Run a local command. A string runs through /bin/sh -c with {placeholders} substituted shell-quoted; an array runs as argv, no shell. Its environment is minimal: PATH, HOME, LANG, the HOSTMAINT_* variables (HOSTMAINT_HOST, HOSTMAINT_RUN_ID, HOSTMAINT_WORKFLOW, HOSTMAINT_STEP, HOSTMAINT_CLOUD and those set for hostmaint), the variables named in pass-env and its own env. Fails (exit 7) on a non-zero exit or a timeout.',
    fields: [
      { key: 'command', model: 'command', kind: 'command', required: true, description: 'A shell command line (string), or an argv array (no shell)' },
      { key: 'timeout', model: 'timeoutMs', kind: 'duration', minMs: 1_000, maxMs: 48 * H, required: false, default: 30 * 60_000, description: 'Kill the command (and fail the attempt) after this long' },
      { key: 'retries', model: 'retries', kind: 'int', min: 0, max: 10, required: false, default: 0, description: 'Extra attempts after a non-zero exit or a timeout' },
      { key: 'env', model: 'env', kind: 'string-map', required: false, default: {}, description: 'Extra environment variables for the command (values may use {placeholders} and {env:NAME})' },
      { key: 'pass-env', model: 'passEnv', kind: 'string-list', required: false, default: [], description: "Names of hostmaint's environment variables the command also gets (SSH_AUTH_SOCK, a token listed in the workflow's secrets ...); '*' passes all of them but the cloud's credentials" },
    ],
  },
  {
    type: 'http',
    compensation: true,
    description: 'Send one HTTP request with a JSON body (a chat message, an alert silence, a ticket comment). Fails (exit 7) on a non-2xx answer; network errors, timeouts, 429 and 5xx are retried.',
    fields: [
      { key: 'url', model: 'url', kind: 'string', required: true, description: 'http:// or https:// URL; may start with a placeholder such as {env:CHAT_WEBHOOK_URL}' },
      { key: 'method', model: 'method', kind: 'enum', choices: ['POST', 'PUT'], required: false, default: 'POST', description: 'HTTP method' },
      { key: 'headers', model: 'headers', kind: 'string-map', required: false, default: {}, description: 'Request headers; secrets (Authorization, tokens, API keys, cookies) must come from {env:NAME}' },
      { key: 'payload', model: 'payload', kind: 'json', required: false, default: {}, description: 'JSON body; string values anywhere in it may use {placeholders} and {env:NAME}' },
      { key: 'timeout', model: 'timeoutMs', kind: 'duration', minMs: 1_000, maxMs: 10 * 60_000, required: false, default: 10_000, description: 'Timeout of one attempt' },
      { key: 'retries', model: 'retries', kind: 'int', min: 0, max: 10, required: false, default: 3, description: 'Extra attempts after a network error, a timeout, 429 or 5xx' },
    ],
  },
  {
    type: 'wait-for-service',
    compensation: true,
    description:
      'Wait until the nova-compute service of the host reports up (e.g. after a reboot). Fails (exit 7) when it is not up in time. A resumed step continues where it was: the timeout counts from its first start, and a stop it saw (expect-restart) is not waited for again (docs/reliability.md).',
    fields: [
      { key: 'timeout', model: 'timeoutMs', kind: 'duration', minMs: 1_000, maxMs: 24 * H, required: false, default: 20 * 60_000, description: 'Give up after this long' },
      { key: 'poll-interval', model: 'pollIntervalMs', kind: 'duration', minMs: 1_000, maxMs: 10 * 60_000, required: false, default: 10_000, description: 'How often to look at the service' },
      { key: 'fresh', model: 'fresh', kind: 'boolean', required: false, default: true, description: "Only a heartbeat newer than the step's start counts (a host that just rebooted may still look up on its last report)" },
      {
        key: 'expect-restart',
        model: 'expectRestart',
        kind: 'boolean',
        required: false,
        default: false,
        description:
          'First see nova-compute stop (Nova says down, or no new heartbeat for stall-after), then up with a newer heartbeat: for a maintenance command that returns before the host goes down (ssh ... reboot). Leave it false when the command itself waits until the host is back',
      },
      { key: 'stall-after', model: 'stallAfterMs', kind: 'duration', minMs: 5_000, maxMs: 60 * 60_000, required: false, default: 30_000, description: 'With expect-restart: a heartbeat that has not changed for this long means nova-compute stopped (a few of Nova\'s report_interval, 10 s by default)' },
    ],
  },
  {
    type: 'approve',
    compensation: false,
    description: 'An approval gate: the run is saved and stops (exit 8) until someone approves it with `hostmaint continue <run-id>`.',
    fields: [{ key: 'message', model: 'message', kind: 'string', required: false, default: 'Approve to continue.', description: 'Shown while the run waits: what the approver should check' }],
  },
  {
    type: 'enable',
    compensation: true,
    description: "Enable the nova-compute service again (as `undrain`): only a disable that is hostmaint's, unless force. With the wait-up policy, first waits for the service to report up.",
    fields: [{ key: 'force', model: 'force', kind: 'boolean', required: false, default: false, description: "Enable even when the service was not disabled by hostmaint (as `undrain --force`)" }],
  },
  {
    type: 'return-instances',
    compensation: false,
    description: 'Move back the instances this run moved off the host, those still where the drain put them (as `undrain --return`). Must come right after an enable, with a migrate earlier in the workflow.',
    fields: [],
  },
];

export const STEP_TYPE_NAMES: readonly StepType[] = STEP_TYPES.map((s) => s.type);

export function stepTypeDef(type: string): StepTypeDef | undefined {
  return STEP_TYPES.find((s) => s.type === type);
}
