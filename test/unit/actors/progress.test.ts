/**
 * A live migration's progress as Nova serves it for real guests (test/fixtures/libvirt/, recorded
 * on the lab's libvirt computes by test/lab/record-progress.py), read the way the drain reads it:
 * an idle guest's copy shows progress at every report and its percent ends near 100; a busy
 * guest's never sets a new low after its first pass, so the stall timer runs; and the emulator
 * serves the same shapes.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { copiedPercent, noteProgress } from '../../../src/actors/pool-watch.js';
import { toServerMigration } from '../../../src/openstack/compute/wire.js';
import type { InstanceRun } from '../../../src/machines/actor-io.js';

interface Recording {
  host_after: string;
  aborted_after_s: number | null;
  readings: Array<{ t: number; body: { migrations: Array<Record<string, unknown>> } }>;
}
const load = (kind: string) => JSON.parse(readFileSync(new URL(`../../fixtures/libvirt/live-migration-${kind}.json`, import.meta.url), 'utf8')) as Recording;

function freshRun(): InstanceRun {
  return { memoryTotalBytes: null, memoryProcessedBytes: null, memoryRemainingBytes: null, diskRemainingBytes: null, memoryRemainingLowBytes: null, diskRemainingLowBytes: null, lastProgressAt: null } as unknown as InstanceRun;
}

/** Replays the running readings: when progress was seen (seconds since the request). */
function replay(rec: Recording) {
  const run = freshRun();
  const progressAt: number[] = [];
  const percents: Array<number | null> = [];
  for (const r of rec.readings) {
    const m = r.body.migrations[0];
    if (!m || m['status'] !== 'running') continue;
    const sm = toServerMigration(m as never);
    if (noteProgress(run, sm, r.t * 1000)) progressAt.push(r.t);
    percents.push(copiedPercent(run.memoryTotalBytes, run.memoryRemainingBytes));
  }
  return { progressAt, percents, run };
}

describe('live-migration progress of real guests (recorded on the lab)', () => {
  const idle = load('idle');
  const busy = load('busy');

  it('Nova serves no figures while preparing, then zeros until libvirt first reports: neither counts as progress', () => {
    const first = idle.readings.map((r) => r.body.migrations[0]).filter((m) => m !== undefined);
    const preparing = first.find((m) => m['status'] === 'preparing');
    if (preparing) assert.equal(preparing['memory_total_bytes'], null);
    const zero = first.find((m) => m['status'] === 'running' && m['memory_total_bytes'] === 0);
    if (zero) {
      const run = freshRun();
      assert.equal(noteProgress(run, toServerMigration(zero as never), 0), false);
      assert.equal(run.memoryRemainingBytes, null, 'no data is not "nothing left"');
    }
  });

  it('an idle guest: progress at every report, and the percent copied ends near 100 (processed/total would end near a third)', () => {
    assert.equal(idle.host_after, 'qemu-02');
    const { progressAt, percents, run } = replay(idle);
    assert.ok(progressAt.length >= 1, 'progress seen');
    const last = percents.filter((p) => p !== null).pop()!;
    assert.ok(last >= 90, `last percent ${last}`);
    const byProcessed = Math.round((run.memoryProcessedBytes! / run.memoryTotalBytes!) * 100);
    assert.ok(byProcessed < last, `processed/total ${byProcessed} % vs copied ${last} %`);
  });

  it('a busy guest: what remains swings, but no new low after the first pass, so a stall timeout fires', () => {
    assert.equal(busy.host_after, 'qemu-01', 'aborted: it stays on the source');
    const { progressAt } = replay(busy);
    const running = busy.readings.filter((r) => r.body.migrations[0]?.['status'] === 'running' && (r.body.migrations[0]?.['memory_total_bytes'] as number) > 0);
    const remaining = running.map((r) => r.body.migrations[0]!['memory_remaining_bytes'] as number);
    assert.ok(remaining.some((v, i) => i > 0 && v > remaining[i - 1]!), `what remains goes up again: ${remaining.join(' ')}`);
    const lastProgress = progressAt[progressAt.length - 1]!;
    const end = running[running.length - 1]!.t;
    assert.ok(end - lastProgress >= 20, `no progress for the last ${end - lastProgress} s of ${end} s (progress at ${progressAt.join(', ')})`);
    // The rule it replaces (any drop since the previous reading) would have kept resetting the timer.
    const drops = remaining.filter((v, i) => i > 0 && v < remaining[i - 1]!).length;
    assert.ok(drops > progressAt.length, `drops ${drops} vs new lows ${progressAt.length}`);
  });
});
