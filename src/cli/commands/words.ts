/**
 * The words of every command, in one table: its usage line, what it does, its positionals and its
 * examples. `--help` shows them, the completion script offers the command names, and the tests read
 * the examples from here. A command module takes its words with `commandWords(name, options)`,
 * where `options` adds the flags it reads (each command shows only what it reads).
 */
import type { Argv, PositionalOptions } from 'yargs';

export interface CommandWords {
  /** yargs' usage line: the name and its positionals. */
  command: string;
  describe: string;
  positionals?: Record<string, PositionalOptions>;
  examples: ReadonlyArray<readonly [string, string]>;
}

const HOST = { type: 'string', describe: 'The nova-compute host (service host name, exact match)' } as const;

export const COMMAND_WORDS = {
  drain: {
    command: 'drain <host>',
    describe: 'Disable a compute host, move every instance off it, verify it is empty, and hand it over',
    positionals: { host: HOST },
    examples: [
      ['$0 drain compute-01 --reason "kernel update CHG-1234"', 'Drain with a reason recorded on the service'],
      ['$0 drain compute-01 --target compute-02 compute-03 --concurrency 4', 'Only onto these hosts, 4 requests queued ahead'],
      ['$0 drain compute-01 --yes -f json > result.json', 'From a runbook: no prompt, JSON result (exit code says what happened)'],
      ['$0 drain compute-01 --stopped leave --skip-blocked', 'Leave SHUTOFF and unmovable instances where they are'],
      ['$0 drain compute-01', 'Again after a crash, Ctrl-C or a lost cloud: resumes the saved run (see `hostmaint status`)'],
      ['$0 drain compute-01 --adopt', 'Carry on a drain another machine started (its marker is on the service)'],
      ['$0 drain compute-01 --coordination etcd3+http://10.0.0.5:2379 --max-hosts-out 2', 'Among several runners sharing an etcd: wait until fewer than 2 hosts of its zone are out'],
      ['$0 drain compute-01 --os-cloud demo', 'Try it on the built-in emulated cloud'],
    ],
  },
  plan: {
    command: 'plan <host>',
    describe: 'Show what a drain would do: every instance classified, every target checked, a placement plan. Changes nothing',
    positionals: { host: HOST },
    examples: [
      ['$0 plan compute-01', 'Would a drain of compute-01 succeed, and where would each instance go?'],
      ['$0 plan compute-01 --target compute-02 -f json', 'The plan onto one target, as JSON'],
    ],
  },
  undrain: {
    command: 'undrain <host>',
    describe: 'Re-enable a host that hostmaint drained (refuses a disable that is not hostmaint\'s unless --force); optionally move its instances back',
    positionals: { host: { type: 'string', describe: 'The nova-compute host' } },
    examples: [
      ['$0 undrain compute-01', 'Re-enable compute-01 if hostmaint disabled it'],
      ['$0 undrain compute-01 --wait-up 15m --return', 'After a reboot: wait for nova-compute, enable, move the instances back'],
      ['$0 undrain compute-01 --force', 'Enable even though someone else disabled it'],
      ['$0 undrain compute-01 --dry-run', 'What undrain would do (exit 5 if it would refuse); changes nothing'],
      ['$0 undrain compute-01', 'Again after a crash or Ctrl-C: resumes the saved undrain (an unfinished drain of the host is superseded)'],
    ],
  },
  run: {
    command: 'run <workflow> [hosts..]',
    describe: 'Run a workflow (drain, maintain, wait, undrain ...) on one host, or host after host on many: saved, resumable',
    positionals: {
      workflow: { type: 'string', describe: 'A workflow name (maintenance-cycle, drain, undrain, or one of yours: `hostmaint workflow list`) or a file path' },
      hosts: { type: 'string', array: true, describe: 'The nova-compute hosts, in order (several: a rolling run, --max-parallel at a time)' },
    },
    examples: [
      ['$0 run maintenance-cycle compute-01', 'Drain, run $HOSTMAINT_MAINTENANCE_COMMAND, wait for nova-compute, undrain and move the instances back'],
      ['$0 run maintenance-cycle compute-01 compute-02 compute-03 --yes', 'Rolling: one host after the other, each back before the next'],
      ['$0 run maintenance-cycle --hosts-from-aggregate rack-12 --max-parallel 2 --order emptiest', 'A whole aggregate, two at a time, emptiest first'],
      ['$0 run ./my-cycle.yaml --hosts-file hosts.txt --continue-on-failure -f json', 'Your own workflow file over a host list; go on past failed hosts; JSON result'],
      ['$0 run maintenance-cycle compute-01 compute-02 --dry-run', 'The order and whether each host can be emptied now; changes nothing'],
      ['$0 run maintenance-cycle --hosts-file rack-12.txt --coordination etcd3+http://10.0.0.5:2379 --max-hosts-out 2', 'One of several runners: never more than 2 hosts of a zone out, counted across all of them and on Nova'],
      ['$0 continue 20261129T093000Z-3f2a', 'Carry on a run waiting at an approve step'],
    ],
  },
  continue: {
    command: 'continue <run-id>',
    describe: 'Approve the step a saved workflow run waits at (an approve step) and carry the run on; the approval (who, when) is recorded',
    positionals: { 'run-id': { type: 'string', describe: 'The waiting run (a host\'s run, or the rolling run it belongs to), as `hostmaint status` lists it' } },
    examples: [
      ['$0 continue 20261129T093000Z-3f2a', 'Approve and carry on (its own cloud, workflow and options)'],
      ['$0 continue 20261129T093000Z-3f2a --yes -f json', 'From a runbook, JSON result'],
    ],
  },
  workflow: {
    command: 'workflow <command>',
    describe: 'Check, show and list workflow files (the steps `hostmaint run` runs); never calls the cloud',
    examples: [
      ['$0 workflow list', 'The workflows hostmaint knows'],
      ['$0 workflow validate ./my-cycle.yaml', 'Check a workflow file'],
      ['$0 workflow show maintenance-cycle', 'What a workflow does, and with which policies'],
    ],
  },
  'workflow validate': {
    command: 'validate <file..>',
    describe: 'Check workflow files (names or paths): every problem with its line; exit 0 when all are valid, else 2',
    positionals: { file: { type: 'string', array: true, describe: 'Workflow names (maintenance-cycle) or paths (./my.yaml)' } },
    examples: [
      ['$0 workflow validate ./my-cycle.yaml', 'Check a file before running it'],
      ['$0 workflow validate drain maintenance-cycle --json', 'Check shipped workflows; problems as JSON'],
    ],
  },
  'workflow show': {
    command: 'show <file>',
    describe: 'Show a workflow: its steps, compensations and effective policies (with where each value came from)',
    positionals: { file: { type: 'string', describe: 'A workflow name or path' } },
    examples: [
      ['$0 workflow show maintenance-cycle', 'The steps and the policies it would run with'],
      ['$0 workflow show drain --concurrency 4 --migration-timeout 2h', 'The policies with these flags applied (as `hostmaint run` would)'],
      ['$0 workflow show ./my.yaml --json', 'The normalised workflow as JSON'],
    ],
  },
  'workflow list': {
    command: 'list',
    describe: 'List the workflows found, in lookup order: --workflows-dir, $HOSTMAINT_WORKFLOWS_DIR, ~/.config/hostmaint/workflows, shipped',
    examples: [['$0 workflow list', 'Every workflow name `hostmaint run` accepts, and where it is']],
  },
  status: {
    command: 'status [target]',
    describe: 'List hostmaint runs with their state, or show one (by host or run id) in detail; reads the state directory, never calls the cloud',
    positionals: { target: { type: 'string', describe: 'A host name or a run id' } },
    examples: [
      ['$0 status', 'All runs, newest first: running, crashed, interrupted, finished, superseded'],
      ['$0 status compute-01', 'The latest run of compute-01 in detail: phase, every instance, last journal entries, how to resume'],
      ['$0 status 20240101T093000Z-3f2a -f json', 'One run as JSON (record, progress, journal tail)'],
      ['$0 status --state-dir /srv/hostmaint', 'Runs kept in another state directory (runs on the demo cloud are listed too)'],
      ['$0 status --fleet --coordination etcd3+http://10.0.0.5:2379', 'Every runner\'s held hosts, lease time left, and the disruption budget per scope'],
    ],
  },
  resume: {
    command: 'resume <run-id>',
    describe: 'Carry on a saved drain, undrain, workflow or rolling run that was interrupted (Ctrl-C, a killed process, a cloud that went away); safe to repeat',
    positionals: { 'run-id': { type: 'string', describe: 'The run id, as `hostmaint status` lists it' } },
    examples: [
      ['$0 resume 20240101T093000Z-3f2a', 'Carry on where the run stopped (its own cloud and options)'],
      ['$0 resume 20240101T093000Z-3f2a --state-dir /srv/hostmaint -f json', 'A run kept in another state directory, JSON result'],
      ['$0 resume 20240101T093000Z-3f2a --coordination etcd3+http://10.0.0.5:2379', 'Another runner\'s run, from etcd: waits for its dead runner\'s lease to run out (--adopt: at once)'],
    ],
  },
  doctor: {
    command: 'doctor <host>',
    describe: 'Diagnose what a drain left behind on a host (read-only): VERIFY_RESIZE, ERROR after a failed migration, stuck migrations, a server not where its last migration put it, allocations on two providers, a hostmaint marker no run explains; each with the command that fixes it',
    positionals: { host: HOST },
    examples: [
      ['$0 doctor compute-01', 'What is wrong on compute-01, with the evidence and the fix (exit 0: nothing; 10: findings)'],
      ['$0 doctor compute-01 --repair', 'Also confirm the resizes hostmaint\'s own cold migrations left waiting and release its own migrations\' leftover Placement holds, then diagnose again'],
      ['$0 doctor compute-01 -f json --since 720h', 'Look 30 days back, JSON for a script'],
    ],
  },
  emulator: {
    command: 'emulator <action> [host]',
    describe: 'The built-in emulated OpenStack cloud: serve it in the foreground, reset the demo cloud, reboot one of its hosts',
    positionals: {
      action: { choices: ['start', 'reset', 'reboot'], describe: 'start: serve until Ctrl-C; reset: forget the saved demo cloud and its runs; reboot: reboot a host of a running demo cloud' },
      host: { type: 'string', describe: 'reboot: the compute host' },
    },
    examples: [
      ['$0 emulator start', 'Serve the demo cloud and print a clouds.yaml entry for it'],
      ['$0 emulator start --scenario scenarios/tight-capacity.yaml --port 15000', 'Serve a scenario on a fixed port (not 5000: Keystone\'s port)'],
      ['$0 emulator reset', 'Start the next --os-cloud demo command on a new demo cloud'],
      ['$0 emulator reboot "$HOSTMAINT_HOST"', 'The demo\'s maintenance command (the default of HOSTMAINT_MAINTENANCE_COMMAND on the demo cloud)'],
    ],
  },
  history: {
    command: 'history [host]',
    describe: 'Past drains, undrains, workflow runs and rolling runs from the state directory, newest first: outcome, how long, how many moved, by whom. Never calls the cloud',
    positionals: { host: { type: 'string', describe: 'Only the runs of this host' } },
    examples: [
      ['$0 history', 'The last 20 runs of every host'],
      ['$0 history compute-01 --limit 0', 'Every run of compute-01'],
      ['$0 history compute-01 --report CHG-1234.md', 'Write the change-ticket report of compute-01\'s latest run again'],
      ['$0 history -f json | jq \'.runs[] | select(.exitCode != 0)\'', 'Runs that did not end well, for a script'],
    ],
  },
  completion: {
    command: 'completion [shell]',
    describe: 'Print the shell completion script (bash or zsh) for hostmaint',
    positionals: { shell: { type: 'string', choices: ['bash', 'zsh'], describe: 'The shell (default: from $SHELL)' } },
    examples: [
      ['$0 completion bash > ~/.local/share/bash-completion/completions/hostmaint', 'Complete hostmaint in bash (new shells)'],
      ['source <($0 completion zsh)', 'Complete hostmaint in this zsh'],
      ['$0 completion zsh > "${fpath[1]}/_hostmaint"', 'Complete hostmaint in zsh (new shells)'],
    ],
  },
} satisfies Record<string, CommandWords>;

export type WordedCommand = keyof typeof COMMAND_WORDS;

/**
 * A command module's usage line, description and builder: its positionals from the table (so --help
 * lists them first, under the usage line), then the options it reads (`options`), then its examples.
 */
export function commandWords(name: WordedCommand, options: (y: Argv) => Argv = (y) => y): { command: string; describe: string; builder: (y: Argv) => never } {
  const w: CommandWords = COMMAND_WORDS[name];
  return {
    command: w.command,
    describe: w.describe,
    builder: (y: Argv) => {
      let b = y;
      for (const [key, o] of Object.entries(w.positionals ?? {})) b = b.positional(key, o);
      b = options(b);
      for (const [cmd, what] of w.examples) b = b.example(cmd, what);
      return b as never;
    },
  };
}
