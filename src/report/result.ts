/**
 * The final summary of a drain or undrain, for people: the outcome in one
 * sentence, a table of every instance (name, project, from, to, method,
 * duration, result), what is left and why, the host's final state, and what
 * to do next as exact commands. No colour, no control codes: it goes to
 * stdout, which is often a file or a ticket.
 */
import type { DrainResult, InstanceOutcome, UndrainResult } from '../machines/results.js';
import type { ErrorInfo } from '../machines/outcome.js';
import type { Classification } from '../machines/plan.js';
import { clean } from './ansi.js';

/** What the next-step commands need to repeat of the command line (the cloud, the state directory). */
export interface ResultContext {
  /** The command line as typed (secrets redacted); flags worth repeating are taken from it. */
  argv?: string[];
  /** The exact command that resumes this run, when it is saved and resumable. */
  resumeCommand?: string | null;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

export function secs(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** serverId -> what the preflight's classifications say of its project (the only place the result carries projects). */
function projectMap(r: DrainResult | UndrainResult, pick: (c: Classification) => string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (r.command === 'drain') {
    for (const c of r.preflight?.instances ?? []) {
      const v = pick(c);
      if (v) out.set(c.serverId, v);
    }
  }
  return out;
}

/** serverId -> projectId. */
export function projectsOf(r: DrainResult | UndrainResult): Map<string, string> {
  return projectMap(r, (c) => c.projectId);
}

/** serverId -> project name, where Keystone gave one. */
export function projectNamesOf(r: DrainResult | UndrainResult): Map<string, string> {
  return projectMap(r, (c) => c.projectName);
}

/** serverId -> the project as people read it: its name when Keystone gave it, else its id. */
export function projectLabelsOf(r: DrainResult | UndrainResult): Map<string, string> {
  return projectMap(r, (c) => (c.projectName ? clean(c.projectName) : c.projectId));
}

function resultText(i: InstanceOutcome): string {
  return i.status + (i.attempts > 1 ? ` (${i.attempts} attempts)` : '') + (i.adopted ? ' (adopted)' : '');
}

function instanceTable(list: InstanceOutcome[], projects: Map<string, string>): string {
  const names = new Map<string, number>();
  for (const i of list) names.set(i.name, (names.get(i.name) ?? 0) + 1);
  const withIds = [...names.values()].some((n) => n > 1);
  const withProject = list.some((i) => projects.has(i.serverId));
  const headers = ['INSTANCE', ...(withIds ? ['ID'] : []), ...(withProject ? ['PROJECT'] : []), 'FROM', 'TO', 'METHOD', 'TIME', 'RESULT', 'NOTE'];
  const rows = list.map((i) => [
    clean(i.name),
    ...(withIds ? [i.serverId] : []),
    ...(withProject ? [projects.get(i.serverId) ?? ''] : []),
    clean(i.from),
    clean(i.to ?? ''),
    i.method ?? '',
    secs(i.durationMs),
    resultText(i),
    clean(i.reason ?? i.errors[i.errors.length - 1] ?? ''),
  ]);
  // The --on-timeout steps and fallbacks each instance went through (absent in results of older versions).
  const escalated = list.filter((i) => (i.escalations ?? []).length > 0).map((i) => `  ${clean(i.name)}: ${i.escalations.map(clean).join('; ')}`);
  return [table(headers, rows).trimEnd(), ...(escalated.length > 0 ? ['Escalations:', ...escalated] : [])].join('\n');
}

/** A blocking group's message, with the flag that overrides it (once). */
export function blockingMessage(g: { message: string; override: { flag: string } | null }): string {
  const m = clean(g.message);
  return g.override && !m.includes(g.override.flag) ? `${m} (override: ${g.override.flag})` : m;
}

/** "name (id): reason; remedy", without repeating what the reason already says. */
export function blockedServer(s: { id: string; name: string; reason: string; remedy: string | null }): string {
  const reason = clean(s.reason);
  const head = reason.startsWith(clean(s.name)) ? reason : `${clean(s.name)} (${s.id}): ${reason}`;
  return `${head}${s.remedy && !reason.includes(clean(s.remedy)) ? `; ${clean(s.remedy)}` : ''}`;
}

function errorLines(e: ErrorInfo | null): string[] {
  if (!e) return [];
  const facts = [e.kind, e.status ? `HTTP ${e.status}` : null, e.requestId ? `request id ${e.requestId}` : null].filter(Boolean).join(', ');
  return [`  why: ${facts}`, ...(e.hint ? [`  what to do: ${clean(e.hint)}`] : [])];
}

/** Counts of the instance results, e.g. "11 moved, 1 failed". */
function tally(list: InstanceOutcome[]): string {
  const counts = new Map<string, number>();
  for (const i of list) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  return [...counts.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
}

function serviceLine(svc: { status: string; state?: string; disabledReason: string | null } | null): string | null {
  if (!svc) return null;
  return `nova-compute ${svc.status}${svc.state ? `, ${svc.state}` : ''}${svc.disabledReason ? ` ("${clean(svc.disabledReason)}")` : ''}`;
}

// ------------------------------------------------------------------ next steps

/** The flags of the original command line that pick the same cloud and state directory (" --os-cloud x"), or "". */
export function repeatedFlags(ctx: ResultContext, keep: string[] = ['--os-cloud', '--state-dir', '--os-region-name', '--os-cacert']): string {
  const argv = ctx.argv ?? [];
  const parts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const flag = keep.find((k) => a === k || a.startsWith(`${k}=`));
    if (!flag) continue;
    const value = a === flag ? argv[i + 1] : a.slice(flag.length + 1);
    if (a === flag) i++;
    if (value !== undefined && value !== '') parts.push(flag, shellQuote(value));
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** For `status`, which reads only the state directory: the --state-dir given, or "". */
export function stateDirFlag(ctx: ResultContext): string {
  return repeatedFlags(ctx, ['--state-dir']);
}

/** Flags of a drain or plan that are not the choice of the plan's policies (output, prompts, runs, the cloud: repeated apart). */
const NOT_POLICY_VALUE = new Set(['-f', '--format', '--events', '--report', '--progress', '--log-file', '--timeout', '--state-dir', '--reason']);
const NOT_POLICY_SWITCH = new Set(['-y', '--yes', '-q', '--quiet', '--dry-run', '--no-color', '--color', '--insecure', '--adopt', '--new-run', '-v', '-vv', '-vvv', '--verbose']);

/**
 * The policy flags of the command line as given (`--stopped leave --skip-blocked --target compute-02`),
 * so a printed next command checks or runs the same thing ("" when none).
 */
export function policyFlags(ctx: ResultContext, host: string): string {
  const argv = ctx.argv ?? [];
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) continue;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    const values: string[] = [];
    let j = i + 1;
    if (!a.includes('=')) for (; j < argv.length && !(argv[j] as string).startsWith('-') && argv[j] !== host; j++) values.push(argv[j] as string);
    if (name.startsWith('--os-') || NOT_POLICY_VALUE.has(name)) {
      i = a.includes('=') ? i : i + (values.length > 0 ? 1 : 0);
      continue;
    }
    if (NOT_POLICY_SWITCH.has(name)) continue;
    out.push(a.includes('=') ? `${name}=${shellQuote(a.slice(name.length + 1))}` : name, ...values.map(shellQuote));
    i = j - 1;
  }
  return out.length > 0 ? ` ${out.join(' ')}` : '';
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What to do next, as lines: explanations end with ':', commands are indented under them. */
export function nextSteps(r: DrainResult | UndrainResult, ctx: ResultContext = {}): string[] {
  const flags = repeatedFlags(ctx);
  const hm = (rest: string) => `hostmaint ${rest}${flags}`;
  const host = shellQuote(r.host);
  const out: string[] = [];
  const say = (text: string, ...commands: string[]) => {
    out.push(text, ...commands.map((c) => `  ${c}`));
  };
  if (r.command === 'drain') {
    const moved = r.instances.filter((i) => i.status === 'moved').length;
    switch (r.outcome) {
      case 'drained':
        if (r.service.ownership === 'foreign') {
          say(`${r.host} was disabled by someone else before this drain; hostmaint will not enable it. When they agree, after the maintenance:`, hm(`undrain ${host} --force`));
        } else {
          say(`Do the maintenance, then give ${r.host} back:`, hm(`undrain ${host}`));
        }
        if (moved > 0) say(`Or give it back and move the ${moved} instance(s) back where they were (those still where this drain put them):`, hm(`undrain ${host} --return${r.service.ownership === 'foreign' ? ' --force' : ''}`));
        break;
      case 'planned':
        say('The plan passed. Drain it:', hm(`drain ${host}${policyFlags(ctx, r.host)} --reason ${shellQuote('maintenance CHG-...')}`));
        break;
      case 'preflight-refused':
        say('Nothing was changed. Deal with the findings above (each says how, or which flag overrides it), then check again:', hm(`plan ${host}${policyFlags(ctx, r.host)}`));
        break;
      case 'partial':
        say(`${r.leftovers.length} thing(s) are still on ${r.host} (listed above); the service stays disabled. After dealing with them, drain again (it carries on under its own disable):`, hm(`drain ${host}`));
        say('Or give the host back as it is:', hm(`undrain ${host}`));
        break;
      case 'interrupted':
        say('Stopped; migrations already requested finish in Nova. Carry on where it stopped:', ctx.resumeCommand ?? hm(`drain ${host}`));
        say('Or give the host back as it is:', hm(`undrain ${host}`));
        break;
      case 'unknown-host':
        if (r.suggestions.length > 0) say(`Did you mean ${r.suggestions.map(clean).join(' or ')}?`, ...r.suggestions.slice(0, 3).map((s) => hm(`plan ${shellQuote(s)}`)));
        else say('List the compute hosts:', 'openstack compute service list --service nova-compute');
        break;
      case 'ownership-refused':
      case 'host-busy':
        say(`${r.host} is held by another run or someone else. See what hostmaint knows of it:`, `hostmaint status ${host}${stateDirFlag(ctx)}`);
        break;
      default:
        say('See the error above; run again with -v (HTTP requests) or --log-file FILE for the details.');
        if (ctx.resumeCommand) say('The run is saved; once the cause is fixed, carry on with:', ctx.resumeCommand);
        break;
    }
  } else {
    switch (r.outcome) {
      case 'undrained':
        if (r.notReturned.length > 0) say(`${r.notReturned.length} instance(s) were not moved back (listed above); move them by hand if they should be on ${r.host}:`, 'openstack server migrate --live-migration --host ' + host + ' SERVER');
        break;
      case 'ownership-refused':
        say(`Someone else disabled ${r.host} (see above). When they agree:`, hm(`undrain ${host} --force`));
        break;
      case 'service-down':
        say(`nova-compute on ${r.host} is not up. Check it (systemctl status nova-compute on the host), then:`, hm(`undrain ${host} --wait-up 10m`));
        break;
      case 'partial':
        say('The host is enabled; some instances did not move back (listed above). Try again:', hm(`undrain ${host} --return`));
        break;
      case 'interrupted':
        say('Stopped. Carry on where it stopped:', ctx.resumeCommand ?? hm(`undrain ${host}`));
        break;
      case 'unknown-host':
        if (r.suggestions.length > 0) say(`Did you mean ${r.suggestions.map(clean).join(' or ')}?`);
        break;
      case 'already-enabled':
        break;
      default:
        say('See the error above; run again with -v (HTTP requests) or --log-file FILE for the details.');
        break;
    }
  }
  return out;
}

// ------------------------------------------------------------------ drain / undrain

/** A plan's instances as a listing (`plan -f table|yaml|value|csv -c COLUMN`): one row per instance, in plan order. */
export const PLAN_LISTING_HEADERS = ['INSTANCE', 'ID', 'PROJECT', 'METHOD', 'POLICY', 'TARGET', 'NEEDS', 'NOTE'];

export function planListing(r: DrainResult): { headers: string[]; rows: string[][] } {
  const projects = projectLabelsOf(r);
  const headers = [...PLAN_LISTING_HEADERS];
  // The policy in force and who chose it: the default, the owner's hostmaint:policy, the operator's --instance-policies.
  const policies = new Map((r.preflight?.instances ?? []).map((c) => [c.serverId, c.policy ? `${c.policy.value} (${c.policy.source})` : '']));
  const rows = r.plan.map((p) => [
    clean(p.name),
    p.serverId,
    projects.get(p.serverId) ?? '',
    p.method,
    policies.get(p.serverId) ?? '',
    clean(p.target ?? (p.fits ? '(scheduler)' : 'NOWHERE')),
    Object.entries(p.request).map(([k, v]) => `${k}:${v}`).join(','),
    clean([p.reason, ...(p.notes ?? [])].filter((x): x is string => !!x).join('; ')),
  ]);
  return { headers, rows };
}

/** The drain's summary; with `ctx` (the run's command line) it ends with the next steps as exact commands. */
export function formatDrainResult(r: DrainResult, ctx?: ResultContext): string {
  const out: string[] = [];
  const projects = projectLabelsOf(r);
  out.push(`${clean(r.host)}: ${r.outcome} - ${clean(r.message)}`, ...errorLines(r.error));
  if (r.preflight && r.preflight.blocking.length > 0) {
    out.push('', 'Preflight found (all problems at once):');
    for (const g of r.preflight.blocking) {
      out.push(`  - ${blockingMessage(g)}`);
      for (const s of g.servers) out.push(`      ${blockedServer(s)}`);
      for (const h of g.hosts ?? []) out.push(`      ${clean(h)}`);
    }
  }
  if (r.dryRun && r.plan.length > 0) {
    const listing = planListing(r);
    const withProject = r.plan.some((p) => projects.has(p.serverId));
    const keep = listing.headers.map((_, i) => i).filter((i) => listing.headers[i] !== 'ID' && (withProject || listing.headers[i] !== 'PROJECT'));
    out.push('', 'Plan:');
    out.push(table(keep.map((i) => listing.headers[i]!), listing.rows.map((row) => keep.map((i) => row[i] ?? ''))).trimEnd());
  }
  if (!r.dryRun && r.instances.length > 0) {
    out.push('', instanceTable(r.instances, projects));
    out.push(`${tally(r.instances)}; run ${r.runId} took ${secs(r.timings.durationMs)}.`);
  }
  if (r.leftovers.length > 0) {
    out.push('', `Still on ${clean(r.host)}:`);
    for (const l of r.leftovers) out.push(`  - ${l.kind} ${clean(l.name ?? l.id)}${l.status ? ` [${clean(l.status)}]` : ''}: ${clean(l.reason)}`);
  }
  out.push('');
  if (r.verification) {
    const c = r.verification.checks;
    out.push(`Verified: servers ${c.servers}, hypervisor servers ${c.hypervisorServers ?? 'n/a'}, Placement allocations ${c.allocations ?? 'n/a'}, unfinished migrations ${c.unfinishedMigrations}.`);
  }
  const svc = serviceLine(r.service.after ?? r.service.before);
  if (svc) {
    const empty = r.verification ? (r.verification.empty ? '; verified empty' : `; NOT empty (${r.leftovers.length} left)`) : '';
    out.push(`Host ${clean(r.host)}: ${svc}${empty}.`);
  }
  for (const w of r.warnings) out.push(`warning: ${clean(w)}`);
  const next = ctx ? nextSteps(r, ctx) : [];
  if (next.length > 0) out.push('', 'Next:', ...next.map((s) => `  ${s}`));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '')}\n`;
}

export function formatUndrainResult(r: UndrainResult, ctx?: ResultContext): string {
  const out: string[] = [`${clean(r.host)}: ${r.outcome} - ${clean(r.message)}`, ...errorLines(r.error)];
  if (r.returns.length > 0) {
    out.push('', instanceTable(r.returns, projectLabelsOf(r)));
    out.push(`${tally(r.returns)}; run ${r.runId} took ${secs(r.timings.durationMs)}.`);
  }
  if (r.notReturned.length > 0) {
    out.push('', 'Not moved back:');
    for (const n of r.notReturned) out.push(`  - ${clean(n.name ?? n.serverId)}: ${clean(n.reason)}`);
  }
  const svc = serviceLine(r.service.after ?? r.service.before);
  if (svc) out.push('', `Host ${clean(r.host)}: ${svc}.`);
  for (const w of r.warnings) out.push(`warning: ${clean(w)}`);
  const next = ctx ? nextSteps(r, ctx) : [];
  if (next.length > 0) out.push('', 'Next:', ...next.map((s) => `  ${s}`));
  return `${out.join('\n')}\n`;
}
