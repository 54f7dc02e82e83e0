import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { parseIntFlag } from '../../core/durations.js';

interface EmulatorArgs {
  action: string;
  scenario: string;
  port: number;
  speed: number;
}

/** `hostmaint emulator start`: run the emulated cloud in the foreground until Ctrl-C. */
export function emulatorCommand(state: CommandState): CommandModule<object, EmulatorArgs> {
  return {
    command: 'emulator <action>',
    describe: 'Run the built-in emulated OpenStack cloud (Keystone, Nova, Placement on 127.0.0.1) in the foreground',
    builder: (y) =>
      y
        .positional('action', { choices: ['start'], describe: 'start: serve until Ctrl-C' })
        .option('scenario', { type: 'string', default: 'demo', describe: 'Scenario name (demo, tight-capacity, ...) or a YAML/JSON file' })
        .option('port', { type: 'number', default: 0, describe: 'Port on 127.0.0.1 (0: any free port)' })
        .option('speed', { type: 'number', default: 1, describe: 'Emulated time runs this many times faster than real time' })
        .example('$0 emulator start', 'Serve the demo cloud and print a clouds.yaml entry for it')
        .example('$0 emulator start --scenario scenarios/tight-capacity.yaml --port 5000', 'Serve a scenario on a fixed port') as never,
    handler: async (argv) => {
      const port = parseIntFlag('port', argv.port, 0, 65535);
      if (!(argv.speed > 0 && argv.speed <= 10_000)) {
        const { usageError } = await import('../../core/errors.js');
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
