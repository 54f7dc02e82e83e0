/**
 * The workflow model: what a workflow file (workflows/*.yaml) says, once
 * loaded, validated and normalised (durations in ms, defaults filled in).
 * Plain JSON: a saved run keeps the file's text and hash, and this model is
 * rebuilt from that text on resume.
 *
 * File keys are kebab-case, the same names as the command-line flags that
 * override them (`migration-timeout: 1h` in the file, `--migration-timeout 2h`
 * on the command line). This module holds only types.
 */

import type { WorkflowPolicies } from '../policies/types.js';

export const WORKFLOW_FILE_VERSION = 1;

export type StepType =
  | 'disable'
  | 'preflight'
  | 'migrate'
  | 'verify-empty'
  | 'exec'
  | 'http'
  | 'wait-for-service'
  | 'approve'
  | 'enable'
  | 'return-instances';

/** `stop` (default): end the run here. `continue`: go on with the next step. Any other value names a compensation (run it, then stop). */
export type OnFailure = string;

interface StepCommon {
  /** Unique within the workflow; defaults to the type (then type-2, type-3 ... for repeats). */
  name: string;
  description: string | null;
  onFailure: OnFailure;
}

export interface DrainFamilyStep extends StepCommon {
  type: 'disable' | 'preflight' | 'migrate' | 'verify-empty';
}

export interface ExecStep extends StepCommon {
  type: 'exec';
  /** A string runs through /bin/sh -c (placeholders substituted shell-quoted); an array runs as argv, no shell. */
  command: string | string[];
  timeoutMs: number;
  /** Extra attempts after a non-zero exit or a timeout. */
  retries: number;
  /** Extra environment for the command (values may use {placeholders} and {env:NAME}). */
  env: Record<string, string>;
  /** Names of hostmaint's environment variables passed on ('*': all but the cloud's credentials). */
  passEnv: string[];
}

export interface HttpStep extends StepCommon {
  type: 'http';
  url: string;
  method: 'POST' | 'PUT';
  /** Values may use {placeholders} and {env:NAME} (secrets must come from {env:NAME}). */
  headers: Record<string, string>;
  /** JSON body; string values anywhere in it may use {placeholders} and {env:NAME}. */
  payload: unknown;
  timeoutMs: number;
  /** Extra attempts after a network error, a timeout, 429 or 5xx. */
  retries: number;
}

export interface WaitForServiceStep extends StepCommon {
  type: 'wait-for-service';
  timeoutMs: number;
  pollIntervalMs: number;
  /** Only a heartbeat newer than the step's start counts (a host that just rebooted may still look up on its last report). Default true. */
  fresh: boolean;
  /** First see the service stop (down, forced down, or its heartbeat stalled for stallAfterMs), then up with a newer heartbeat. Default false. */
  expectRestart: boolean;
  /** With expectRestart: an unchanged heartbeat for this long means the service stopped. Default 30 s. */
  stallAfterMs: number;
}

export interface ApproveStep extends StepCommon {
  type: 'approve';
  /** Shown while the run waits: what the approver should check. */
  message: string;
}

export interface EnableStep extends StepCommon {
  type: 'enable';
  /** Enable even when the service was not disabled by this run (as `undrain --force`). Default false. */
  force: boolean;
}

export interface ReturnInstancesStep extends StepCommon {
  type: 'return-instances';
}

export type WorkflowStep = DrainFamilyStep | ExecStep | HttpStep | WaitForServiceStep | ApproveStep | EnableStep | ReturnInstancesStep;

export interface Workflow {
  version: number;
  name: string;
  description: string | null;
  /** The effective policies (after defaults, the file, and any overrides given). */
  policies: WorkflowPolicies;
  steps: WorkflowStep[];
  /** Named step lists run when a step's onFailure names them. */
  compensations: Record<string, WorkflowStep[]>;
  /** Environment variable names whose values are redacted from everything stored and printed. */
  secrets: string[];
}

/** Where a workflow came from: enough to record it in a saved run and to tell on resume whether the file changed. */
export interface WorkflowSource {
  /** The name it was asked by ("maintenance-cycle") or the path given. */
  ref: string;
  /** Absolute path of the file read; null for a workflow given inline. */
  path: string | null;
  /** The file's text, exactly as read. */
  content: string;
  /** sha256 of content, hex. */
  sha256: string;
  format: 'yaml' | 'json';
}

/** The {placeholders} a step's command, URL, headers, payload and env may use (plus {env:NAME}). */
export const PLACEHOLDER_NAMES = ['host', 'runId', 'workflow', 'step', 'cloud', 'reason'] as const;
export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];
export type PlaceholderValues = Record<PlaceholderName, string>;

/** What one step ended with: data, never an exception (a saved run keeps it). */
export interface StepOutcome {
  /** ok: done; failed: the step did not do what it must (see exitCode); waiting: an approval gate is not approved yet. */
  status: 'ok' | 'failed' | 'waiting';
  /** The exit code this step would give the run (0 when ok; 7 for a failed exec/http/wait-for-service; the drain's own code for drain steps). */
  exitCode: number;
  /** One line for the operator; never a secret. */
  message: string;
  /** Step-specific facts (plain JSON, no secrets): exec exit status and output tails, http status and attempts, ... */
  detail: Record<string, unknown>;
}
