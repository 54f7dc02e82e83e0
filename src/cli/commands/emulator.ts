import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { parseIntFlag } from '../../core/durations.js';

interface EmulatorArgs {
  action: string;
  host?: string;
  scenario: string;
  port: number;
  speed: number;
  stateDir?: string;
  url?: string;
  upAfter: string;
}

/** `hostmaint emulator start|reset|reboot`: the built-in emulated cloud. */
export function emulatorCommand(state: CommandState): CommandModule<object, EmulatorArgs> {
  return {
    ...commandWords('emulator', (y) =>
      y
        .option('scenario', { type: 'string', default: 'demo', group: 'start:', describe: 'Scenario name (demo, tight-capacity, ...) or a YAML/JSON file' })
        .option('port', { type: 'number', default: 0, group: 'start:', describe: 'Port on 127.0.0.1 (0: any free port)' })
        .option('speed', { type: 'number', default: 1, group: 'start:', describe: 'Emulated time runs this many times faster than real time' })
        .option('state-dir', { type: 'string', group: 'reset:', describe: 'The state directory whose demo cloud to forget (default $XDG_STATE_HOME/hostmaint or ~/.local/state/hostmaint)' })
        .option('url', { type: 'string', group: 'reboot:', describe: 'The emulator (default $HOSTMAINT_DEMO_URL, set for the commands a workflow runs on the demo cloud)' })
        .option('up-after', { type: 'string', default: '2m', group: 'reboot:', describe: 'Emulated time until nova-compute reports again' })),
    handler: async (argv) => {
      const { usageError } = await import('../../core/errors.js');
      if (argv.action === 'reset') return reset(state, argv);
      if (argv.action === 'reboot') return reboot(state, argv);
      if (argv.host !== undefined) throw usageError(`emulator start takes no host (got '${argv.host}')`, 'Run `hostmaint emulator start`.');
      const port = parseIntFlag('port', argv.port, 0, 65535);
      if (!(argv.speed > 0 && argv.speed <= 10_000)) {
        throw usageError(`--speed ${argv.speed} is not allowed`, 'Use a number above 0 and at most 10000.');
      }
      const { startEmulator, scaledClock } = await import('../../emulator/index.js');
      const emulator = await startEmulator({ scenario: argv.scenario, port, clock: scaledClock(argv.speed) });
      const out = state.io.stdout;
      out.write(`hostmaint emulator: serving scenario '${argv.scenario}' at ${emulator.authUrl}\n`);
      out.write('Put this in clouds.yaml (or save it and set OS_CLIENT_CONFIG_FILE), then use --os-cloud emulator:\n\n');
      out.write(emulator.cloudsYaml('emulator'));
      out.write('\nCtrl-C stops it.\n');
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await emulator.stop();
      state.exitCode = 0;
    },
  };
}

async function reset(state: CommandState, argv: EmulatorArgs): Promise<void> {
  const { checkStateDirFlag } = await import('../state-dir.js');
  const { defaultStateDir } = await import('../../runs/store.js');
  const { resetDemoCloud, demoStateDir } = await import('../demo-cloud.js');
  const base = argv.stateDir !== undefined ? checkStateDirFlag(argv.stateDir) : defaultStateDir(state.io.env);
  const had = resetDemoCloud(base);
  state.io.stdout.write(
    had
      ? `Forgot the demo cloud and its runs (${demoStateDir(base)}): the next --os-cloud demo command starts a new demo cloud.\n`
      : `No saved demo cloud in ${demoStateDir(base)}: nothing to do.\n`,
  );
  state.exitCode = 0;
}

async function reboot(state: CommandState, argv: EmulatorArgs): Promise<void> {
  const { usageError, HostmaintError } = await import('../../core/errors.js');
  const { parseDuration } = await import('../../core/durations.js');
  const host = String(argv.host ?? '').trim();
  if (!host) throw usageError('emulator reboot needs a host', 'Name the host: hostmaint emulator reboot compute-01.');
  const url = argv.url ?? state.io.env.HOSTMAINT_DEMO_URL;
  if (!url) {
    throw usageError('no emulator to reboot a host in: HOSTMAINT_DEMO_URL is not set', 'This is the demo\'s maintenance command: `hostmaint run maintenance-cycle compute-01 --os-cloud demo` runs it with HOSTMAINT_DEMO_URL set. Or give --url of an `emulator start`.');
  }
  const upAfterMs = parseDuration('up-after', argv.upAfter, { minMs: 0, maxMs: 3_600_000 });
  const fault = { kind: 'host-down', host, immediate: true, up_after_ms: upAfterMs, name: `reboot ${host}` };
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}/_emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  } catch (e) {
    throw new HostmaintError('network', `cannot reach the emulator at ${url}: ${(e as Error).message}`, { hint: 'The demo cloud lives only while the hostmaint command that started it runs.' });
  }
  if (!res.ok) {
    const text = await res.text();
    throw usageError(`the emulator refused the reboot of ${host}: ${text.slice(0, 300)}`, 'Name a host of the demo cloud (compute-01 ... compute-04).');
  }
  state.io.stdout.write(`Rebooting ${host} (emulated): nova-compute stops now and reports again ${argv.upAfter} later (emulated time).\n`);
  state.exitCode = 0;
}
