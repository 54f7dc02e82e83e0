/** Key-shape comparison of emulator responses with responses recorded from the real lab (test/fixtures). */
export function shapeDiff(real: unknown, emu: unknown, path = ''): string[] {
  const out: string[] = [];
  if (Array.isArray(real)) {
    if (!Array.isArray(emu)) return [`${path}: array in the lab, ${emu === null ? 'null' : typeof emu} here`];
    if (real.length > 0 && emu.length > 0) out.push(...shapeDiff(real[0], emu[0], `${path}[0]`));
    return out;
  }
  if (real && typeof real === 'object') {
    if (!emu || typeof emu !== 'object' || Array.isArray(emu)) return [`${path}: object in the lab, ${emu === null ? 'null' : Array.isArray(emu) ? 'array' : typeof emu} here`];
    const r = real as Record<string, unknown>;
    const e = emu as Record<string, unknown>;
    // Maps keyed by ids (allocations, provider summaries, hosts of a zone): compare one value.
    const idKeyed = (o: Record<string, unknown>) => Object.keys(o).length > 0 && Object.keys(o).every((k) => /^[0-9a-f-]{32,36}$/.test(k) || /^(compute-|controller|lab-)/.test(k));
    if (idKeyed(r) && (idKeyed(e) || Object.keys(e).length === 0)) {
      const rv = Object.values(r)[0];
      const ev = Object.values(e)[0];
      if (ev !== undefined) out.push(...shapeDiff(rv, ev, `${path}{*}`));
      return out;
    }
    for (const k of Object.keys(r)) if (!(k in e)) out.push(`${path}.${k}: missing here`);
    for (const k of Object.keys(e)) if (!(k in r)) out.push(`${path}.${k}: not in the lab`);
    for (const k of Object.keys(r)) if (k in e) out.push(...shapeDiff(r[k], e[k], `${path}.${k}`));
    return out;
  }
  return out;
}
