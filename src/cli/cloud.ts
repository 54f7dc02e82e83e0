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
  /** Variables for the commands a workflow runs (the demo: where its cloud listens). */
  childEnv?: Record<string, string>;
  /** The demo: how many times faster than real time the emulated cloud runs (null: virtual time). */
  demoSpeed?: number | null;
  close(): Promise<void>;
}

export async function openCloud(
  overrides: Record<string, unknown>,
  opts: { env: NodeJS.ProcessEnv; logger: Logger; timeoutMs: number; demoScenario?: string; stateDir?: string; onSecrets?: (secrets: string[]) => void },
): Promise<OpenedCloud> {
  const { resolveCloud, isBuiltinDemo } = await import('../config/index.js');
  const { connect } = await import('../openstack/session.js');
  const { realClock } = await import('../core/clock.js');
  const { loadDemoCloud, saveDemoCloud, demoCloudFile } = await import('./demo-cloud.js');
  if (isBuiltinDemo(overrides, opts.env)) {
    const { startEmulator, scaledClock, VirtualClock } = await import('../emulator/index.js');
    // HOSTMAINT_DEMO_SPEED: emulated time runs this many times faster than real time (default 10);
    // "virtual": as fast as the machine goes (tests). HOSTMAINT_DEMO_SCENARIO: another scenario.
    const speed = opts.env.HOSTMAINT_DEMO_SPEED ?? '10';
    const scenario = opts.demoScenario ?? opts.env.HOSTMAINT_DEMO_SCENARIO ?? 'demo';
    // The demo cloud outlives the process: its journal is in the state directory (demo-cloud.ts).
    const saved = opts.stateDir ? loadDemoCloud(opts.stateDir, scenario, opts.logger) : null;
    const from = saved?.savedAt;
    // Virtual: hostmaint and the emulator share one clock (tests). Otherwise hostmaint keeps real
    // time (run ids, records, status and history) and the emulator runs a scaled clock that stamps
    // its API in real time (toWall), so the two agree; only durations are shorter than a real cloud's.
    const virtual = speed === 'virtual' ? new VirtualClock(from !== undefined ? { start: from } : {}) : null;
    const factor = Number(speed) > 0 ? Number(speed) : 10;
    const emuClock = virtual ?? scaledClock(factor, from ?? Date.now());
    // hostmaint's own clock in the demo: real time for every timestamp and duration, but its waits
    // (polls, back-offs) are shortened as the cloud is sped up, so it watches the cloud as closely as
    // it would a real one.
    const clock: Clock = virtual ?? { now: realClock.now, ...(realClock.steady ? { steady: realClock.steady } : {}), sleep: (ms, signal) => realClock.sleep(ms / factor, signal) };
    const emulator = await startEmulator({ scenario, clock: emuClock, logger: opts.logger, ...(saved ? { journal: saved } : {}) });
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
      opts.logger.info('using the built-in demo cloud (emulated, in this process)', {
        authUrl: emulator.authUrl,
        speed: virtual ? 'virtual' : `${factor}x`,
        restored: saved !== null,
        saved: opts.stateDir ? demoCloudFile(opts.stateDir) : null,
      });
      // A maintenance command run by a workflow reaches this cloud (`hostmaint emulator reboot`).
      const env = { HOSTMAINT_DEMO_URL: emulator.url };
      return {
        session,
        cloudName: 'demo',
        demo: true,
        clock,
        secrets: [c.password],
        childEnv: env,
        demoSpeed: virtual ? null : factor,
        close: async () => {
          await session.close();
          if (opts.stateDir) saveDemoCloud(opts.stateDir, emulator.journal(), opts.logger);
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
