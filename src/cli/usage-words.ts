/**
 * yargs' words for a command line it refuses, in hostmaint's: a mistyped flag gets the closest
 * flag the command has ("did you mean --concurrency?"), a missing argument is named.
 */

/** What each command needs, in words, when it is missing. */
const NEEDS: Record<string, string> = {
  drain: 'a host: hostmaint drain <host> (e.g. hostmaint drain compute-01)',
  plan: 'a host: hostmaint plan <host> (e.g. hostmaint plan compute-01)',
  undrain: 'a host: hostmaint undrain <host> (e.g. hostmaint undrain compute-01)',
  run: 'a workflow and hosts: hostmaint run <workflow> <host...> (e.g. hostmaint run maintenance-cycle compute-01; `hostmaint workflow list` names the workflows)',
  resume: 'a run id: hostmaint resume <run-id> (`hostmaint status` lists the runs)',
  continue: 'a run id: hostmaint continue <run-id> (`hostmaint status` lists the runs waiting for approval)',
  emulator: 'an action: hostmaint emulator start | reset | reboot <host>',
  workflow: 'a subcommand: hostmaint workflow list | show <workflow> | validate <file>',
};

export function levenshtein(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The known flag closest to `typed` (a few edits away at most), or null. */
export function closestFlag(typed: string, known: string[]): string | null {
  const t = typed.replace(/^-+/, '').toLowerCase();
  let best: { name: string; dist: number } | null = null;
  for (const k of known) {
    if (k.length < 2) continue;
    const dist = levenshtein(t, k.toLowerCase());
    if (!best || dist < best.dist) best = { name: k, dist };
  }
  if (!best) return null;
  return best.dist <= Math.max(2, Math.floor(t.length / 4)) ? best.name : null;
}

/** yargs' message, reworded; the hint to give with it (null: the generic one). */
export function rewordUsage(msg: string, argv: string[], knownFlags: string[], commands: readonly string[] = []): { message: string; hint: string | null } {
  const command = argv.find((a) => !a.startsWith('-')) ?? '';
  if (command && commands.length > 0 && !commands.includes(command) && /^(Unknown argument|Did you mean)/.test(msg)) {
    const near = closestFlag(command, [...commands]);
    return { message: `'${command}' is not a hostmaint command${near ? `; did you mean ${near}?` : ''}`, hint: `The commands: ${commands.join(', ')} (hostmaint --help).` };
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    // yargs names a dashed flag twice (--os-cloud, --osCloud): keep the dashed one
    const all = unknown[1]!.split(',').map((s) => s.trim()).filter(Boolean);
    const names = all.filter((n) => !/[A-Z]/.test(n) || !all.includes(n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
    const suggestions = names.map((n) => [n, closestFlag(n, knownFlags.filter((k) => k !== n))] as const).filter(([, s]) => s !== null);
    const flagWord = (n: string) => (n.length === 1 ? `-${n}` : `--${n}`);
    const message = `${command ? `${command}: ` : ''}unknown option${names.length > 1 ? 's' : ''} ${names.map(flagWord).join(', ')}`;
    if (suggestions.length > 0) {
      return { message: `${message}; did you mean ${suggestions.map(([, s]) => flagWord(s!)).join(', ')}?`, hint: `Run \`hostmaint ${command} --help\` for its options.` };
    }
    return { message, hint: command ? `Run \`hostmaint ${command} --help\` for its options.` : null };
  }
  if (/^Not enough non-option arguments/.test(msg) && NEEDS[command]) {
    return { message: `${command} needs ${NEEDS[command]}`, hint: `Run \`hostmaint ${command} --help\` for its options and examples.` };
  }
  return { message: msg, hint: null };
}
