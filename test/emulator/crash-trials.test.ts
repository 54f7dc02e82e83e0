/**
 * The short version of bench/crash-trials.ts for CI: 10 drains of varied
 * scenarios against an emulated cloud in this process, hostmaint as child
 * processes killed with SIGKILL at random moments and run again until done;
 * every trial must end with the host empty, every instance on another host in
 * its original state, no instance migrated twice (judged from the emulator's
 * request log), the service disabled by hostmaint. Needs `npm run build`
 * (npm test builds first). The soak: `npx tsx bench/crash-trials.ts --trials 50`.
 */
import { strict as assert } from 'node:assert';
import { formatTally, runTrials } from '../../bench/crash-trials.js';
import { requireBuiltCli } from '../cli/runs-helpers.js';

describe('crash-resume trials (SIGKILL at random moments, then run again)', function () {
  this.timeout(600_000);
  before(requireBuiltCli);

  it('10 trials over varied scenarios: all end drained, nothing lost or moved twice', async () => {
    const lines: string[] = [];
    const tally = await runTrials({ trials: 10, seed: Number(process.env.HOSTMAINT_TRIAL_SEED ?? 1), speed: 40, log: (l) => lines.push(l) });
    console.log(`${formatTally(tally).replace(/^/gm, '    ')}`);
    assert.equal(tally.failed, 0, lines.join('\n'));
    assert.equal(tally.passed, 10);
    assert.ok(tally.kills >= 8, `only ${tally.kills} SIGKILLs landed:\n${lines.join('\n')}`);
  });
});
