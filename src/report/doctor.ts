/** `hostmaint doctor`'s report for people: each finding, its evidence, the commands that fix it. */
import type { DoctorFinding, DoctorReport } from '../library/doctor.js';
import { clean } from './ansi.js';

function block(f: DoctorFinding, n: number, repairAsked: boolean): string[] {
  const out = [`${n}. ${f.kind}: ${clean(f.summary)}`];
  f.evidence.forEach((e, i) => out.push(`   ${i === 0 ? 'evidence:' : '         '} ${clean(e)}`));
  f.fix.forEach((c, i) => out.push(`   ${i === 0 ? 'fix:     ' : '         '} ${clean(c)}`));
  if (f.repairable && !repairAsked) out.push(`   repair:   hostmaint doctor --repair applies this fix (hostmaint's own run caused it)`);
  return out;
}

export function formatDoctorReport(r: DoctorReport, repaired: DoctorFinding[], o: { repairAsked: boolean }): string {
  const out: string[] = [];
  const read = `read: ${r.checked.servers} server(s) on the host, ${r.checked.migrations} migration record(s) since ${r.checked.since}, ${r.checked.consumers} Placement consumer(s)`;
  const svc = r.service ? `nova-compute ${r.service.status}, ${r.service.state}${r.service.disabledReason ? ` ("${clean(r.service.disabledReason)}")` : ''}` : 'no service';
  for (const f of repaired) out.push(`repaired: ${f.kind} ${clean(f.name ?? f.serverId ?? '')}: ${clean(f.repaired ?? '')}`);
  if (repaired.length > 0) out.push('');
  if (r.findings.length === 0) {
    out.push(`${clean(r.host)}: nothing found (${svc}; ${read}).`);
  } else {
    out.push(`${clean(r.host)}: ${r.findings.length} finding(s) (${svc}; ${read}).`, '');
    r.findings.forEach((f, i) => out.push(...block(f, i + 1, o.repairAsked), ''));
    const repairable = r.findings.filter((f) => f.repairable).length;
    if (repairable > 0 && !o.repairAsked) out.push(`${repairable} of them hostmaint can repair itself: hostmaint doctor ${r.host} --repair`);
  }
  for (const w of r.warnings) out.push(`warning: ${clean(w)}`);
  return `${out.join('\n').trimEnd()}\n`;
}
