/**
 * The short version of bench/rolling-crash-trials.ts for CI: 3 rolling runs
 * (`hostmaint run <workflow-file> compute-01 compute-02 compute-03` as child
 * processes) killed with SIGKILL at random moments and run again with the
 * same command until done, against an emulated cloud in this process. Every
 * trial must end with one rolling run id, each host done under its own run
 * id, every instance back on its host in its original state after exactly two
 * migrations, none requested while moving, every host enabled with no marker,
 * never two hosts disabled at once, the exec step run on every host. Needs
 * `npm run build` (npm test builds first). The soak:
 * `npx tsx bench/rolling-crash-trials.ts --trials 20`.
 */
import { strict as assert } from 'node:assert';
import { formatRollingTally, runRollingTrials } from '../../bench/rolling-crash-trials.js';
import { requireBuiltCli } from '../cli/runs-helpers.js';

describe('rolling crash-resume trials (SIGKILL at random moments, then the same command again)', function () {
  this.timeout(300_000);
  before(requireBuiltCli);

  it('3 rolling runs over three hosts: each ends completed, every instance home, none moved twice at once, one host down at a time', async () => {
    const lines: string[] = [];
    const tally = await runRollingTrials({ trials: 3, seed: Number(process.env.HOSTMAINT_TRIAL_SEED ?? 1), speed: 40, log: (l) => lines.push(l) });
    console.log(`${formatRollingTally(tally).replace(/^/gm, '    ')}`);
    assert.equal(tally.failed, 0, lines.join('\n'));
    assert.equal(tally.passed, 3);
    assert.ok(tally.kills >= 2, `only ${tally.kills} SIGKILLs landed:\n${lines.join('\n')}`);
  });
});
