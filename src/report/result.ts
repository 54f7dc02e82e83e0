/** The final summary of a drain or undrain, as a table for people. */
import type { DrainResult, ErrorInfo, InstanceOutcome, UndrainResult } from '../workflow/types.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

function secs(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)}s`;
}

function instanceRows(list: InstanceOutcome[]): string[][] {
  return list.map((i) => [
    i.name,
    i.serverId,
    i.from,
    i.to ?? '',
    i.method ?? '',
    secs(i.durationMs),
    i.status + (i.attempts > 1 ? ` (${i.attempts} attempts)` : ''),
    i.reason ?? i.errors[i.errors.length - 1] ?? '',
  ]);
}

function errorLines(e: ErrorInfo | null): string[] {
  if (!e) return [];
  const facts = [e.kind, e.status ? `HTTP ${e.status}` : null, e.requestId ? `request id ${e.requestId}` : null].filter(Boolean).join(', ');
  return [`  why: ${facts}`, ...(e.hint ? [`  what to do: ${e.hint}`] : [])];
}

export function formatDrainResult(r: DrainResult): string {
  const out: string[] = [];
  out.push(`${r.host}: ${r.outcome} - ${r.message}`, ...errorLines(r.error));
  if (r.preflight && r.preflight.blocking.length > 0) {
    out.push('', 'Preflight found (all problems at once):');
    for (const g of r.preflight.blocking) {
      out.push(`  - ${g.message}${g.override ? ` (override: ${g.override.flag})` : ''}`);
      for (const s of g.servers) out.push(`      ${s.name} (${s.id}): ${s.reason}${s.remedy ? `; ${s.remedy}` : ''}`);
    }
  }
  if (r.dryRun && r.plan.length > 0) {
    out.push('', 'Plan:');
    out.push(table(['INSTANCE', 'ID', 'METHOD', 'TARGET', 'NEEDS', 'NOTE'], r.plan.map((p) => [
      p.name,
      p.serverId,
      p.method,
      p.target ?? (p.fits ? '(scheduler)' : 'NOWHERE'),
      Object.entries(p.request).map(([k, v]) => `${k}:${v}`).join(','),
      p.reason ?? '',
    ])).trimEnd());
  }
  if (!r.dryRun && r.instances.length > 0) {
    out.push('', table(['INSTANCE', 'ID', 'FROM', 'TO', 'METHOD', 'TIME', 'RESULT', 'REASON'], instanceRows(r.instances)).trimEnd());
  }
  if (r.leftovers.length > 0) {
    out.push('', 'Still on the host:');
    for (const l of r.leftovers) out.push(`  - ${l.kind} ${l.name ?? l.id}${l.status ? ` [${l.status}]` : ''}: ${l.reason}`);
  }
  if (r.verification) {
    const c = r.verification.checks;
    out.push('', `Verified: servers ${c.servers}, hypervisor servers ${c.hypervisorServers ?? 'n/a'}, Placement allocations ${c.allocations ?? 'n/a'}, unfinished migrations ${c.unfinishedMigrations}.`);
  }
  const svc = r.service.after ?? r.service.before;
  if (svc) out.push(`Service nova-compute on ${r.host}: ${svc.status}${svc.disabledReason ? ` ("${svc.disabledReason}")` : ''}.`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.suggestions.length > 0) out.push('', 'Next:', ...r.suggestions.map((s) => `  ${s}`));
  return `${out.join('\n')}\n`;
}

export function formatUndrainResult(r: UndrainResult): string {
  const out: string[] = [`${r.host}: ${r.outcome} - ${r.message}`, ...errorLines(r.error)];
  if (r.returns.length > 0) out.push('', table(['INSTANCE', 'ID', 'FROM', 'TO', 'METHOD', 'TIME', 'RESULT', 'REASON'], instanceRows(r.returns)).trimEnd());
  if (r.notReturned.length > 0) {
    out.push('', 'Not moved back:');
    for (const n of r.notReturned) out.push(`  - ${n.name ?? n.serverId}: ${n.reason}`);
  }
  const svc = r.service.after ?? r.service.before;
  if (svc) out.push(`Service nova-compute on ${r.host}: ${svc.status}${svc.disabledReason ? ` ("${svc.disabledReason}")` : ''}.`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.suggestions.length > 0) out.push('', 'Next:', ...r.suggestions.map((s) => `  ${s}`));
  return `${out.join('\n')}\n`;
}
