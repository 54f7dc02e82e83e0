/**
 * From flags and environment to an authenticated CloudSession. `--os-cloud demo`
 * (when no clouds.yaml defines "demo") starts the built-in emulated cloud in
 * this process and points the real clients at it over loopback.
 */
import type { CloudSession } from '../openstack/api.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';

export interface OpenedCloud {
  session: CloudSession;
  /** The name shown in output and run records ("demo", "lab", "environment"). */
  cloudName: string;
  demo: boolean;
  clock: Clock;
  /** Strings that must never be printed (the password in use), for the log scrubber. */
  secrets: string[];
  close(): Promise<void>;
}

export async function openCloud(
  overrides: Record<string, unknown>,
  opts: { env: NodeJS.ProcessEnv; logger: Logger; timeoutMs: number; demoScenario?: string; onSecrets?: (secrets: string[]) => void },
): Promise<OpenedCloud> {
  const { resolveCloud, isBuiltinDemo } = await import('../config/index.js');
  const { connect } = await import('../openstack/session.js');
  const { realClock } = await import('../core/clock.js');
  if (isBuiltinDemo(overrides, opts.env)) {
    const { startEmulator, scaledClock, VirtualClock } = await import('../emulator/index.js');
    // HOSTMAINT_DEMO_SPEED: emulated time runs this many times faster than real time (default 10);
    // "virtual": as fast as the machine goes (tests). HOSTMAINT_DEMO_SCENARIO: another scenario.
    const speed = opts.env.HOSTMAINT_DEMO_SPEED ?? '10';
    const clock = speed === 'virtual' ? new VirtualClock() : scaledClock(Number(speed) > 0 ? Number(speed) : 10);
    const scenario = opts.demoScenario ?? opts.env.HOSTMAINT_DEMO_SCENARIO ?? 'demo';
    // hostmaint reads this same clock in the demo, so the emulator stamps its API in it (no toWall).
    const emulator = await startEmulator({ scenario, clock: clock instanceof VirtualClock ? clock : { now: () => clock.now(), sleep: (ms, signal) => clock.sleep(ms, signal) }, logger: opts.logger });
    try {
      const c = emulator.credentials;
      opts.onSecrets?.([c.password]);
      const cloud = resolveCloud(
        {
          osAuthUrl: emulator.authUrl,
          osUsername: c.username,
          osPassword: c.password,
          osProjectName: c.projectName,
          osUserDomainName: c.userDomainName,
          osProjectDomainName: c.projectDomainName,
          osRegionName: 'RegionOne',
        },
        {},
      );
      const session = await connect({ ...cloud, name: 'demo' }, { logger: opts.logger, clock, timeoutMs: opts.timeoutMs });
      opts.logger.info('using the built-in demo cloud (emulated, in this process)', { authUrl: emulator.authUrl });
      return {
        session,
        cloudName: 'demo',
        demo: true,
        clock,
        secrets: [c.password],
        close: async () => {
          await session.close();
          await emulator.stop();
        },
      };
    } catch (e) {
      await emulator.stop();
      throw e;
    }
  }
  const cloud = resolveCloud(overrides, opts.env);
  const secrets: string[] = [];
  const auth = cloud.auth as { password?: string; secret?: string; token?: string };
  for (const s of [auth.password, auth.secret, auth.token]) if (s) secrets.push(s);
  // The scrubbers know the secrets before the first request is logged.
  opts.onSecrets?.(secrets);
  for (const w of cloud.warnings) opts.logger.warn(w);
  const session = await connect(cloud, { logger: opts.logger, clock: realClock, timeoutMs: opts.timeoutMs });
  return { session, cloudName: cloud.name, demo: false, clock: realClock, secrets, close: () => session.close() };
}
