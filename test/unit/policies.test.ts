import assert from 'node:assert/strict';
import { DRAIN_DEFAULTS, resolveDrainOptions } from '../../src/policies/options.js';
import { POLICIES, defaultPolicies, drainOptionsFrom, policyFlagOptions, resolvePolicies, undrainOptionsFrom } from '../../src/policies/policies.js';
import { workflowSchema } from '../../src/workflow-file/schema.js';

describe('workflow files: policies', () => {
  it('defaults are the drain command\'s defaults (poll every 2s, as `hostmaint drain` always did), wait-up null, max-parallel 1, continue-on-failure false, order given', () => {
    const d = defaultPolicies();
    assert.equal(d.concurrency, DRAIN_DEFAULTS.concurrency);
    assert.equal(d.migrationTimeoutMs, DRAIN_DEFAULTS.migrationTimeoutMs);
    assert.equal(d.pollIntervalMs, 2000);
    assert.equal(d.probeTimeoutMs, DRAIN_DEFAULTS.probeTimeoutMs);
    assert.equal(d.reason, 'maintenance');
    assert.equal(d.waitUpTimeoutMs, null);
    assert.equal(d.maxParallel, 1);
    assert.equal(d.continueOnFailure, false);
    assert.equal(d.order, 'given');
    assert.equal(Object.keys(d).length, POLICIES.length);
  });
  it('precedence: default <- file <- flag, with the source of each', () => {
    const r = resolvePolicies({ concurrency: 3, 'migration-timeout': '2h', stopped: 'leave' }, { concurrency: '5', targets: ['c2,c3', 'c4'], 'skip-blocked': true, stopped: undefined });
    assert.deepEqual(r.problems, []);
    assert.equal(r.policies.concurrency, 5);
    assert.equal(r.policies.migrationTimeoutMs, 7_200_000);
    assert.equal(r.policies.stopped, 'leave');
    assert.deepEqual(r.policies.targets, ['c2', 'c3', 'c4']);
    assert.equal(r.policies.skipBlocked, true);
    assert.equal(r.sources.concurrency, 'flag');
    assert.equal(r.sources['migration-timeout'], 'file');
    assert.equal(r.sources.stopped, 'file');
    assert.equal(r.sources.targets, 'flag');
    assert.equal(r.sources.retries, 'default');
  });
  it('flags are parsed with the file rules: ranges, durations, none for nullable', () => {
    const r = resolvePolicies({ 'probe-port': 22 }, { 'probe-port': 'none', 'wait-up': '0', 'poll-interval': '90' });
    assert.deepEqual(r.problems, []);
    assert.equal(r.policies.probePort, null);
    assert.equal(r.policies.waitUpTimeoutMs, null);
    assert.equal(r.policies.pollIntervalMs, 90_000);
    // A bad flag is a usage error naming it (the same words as every other flag), before anything runs.
    assert.throws(() => resolvePolicies({}, { concurrency: '0' }), /--concurrency 0 is not allowed/);
    assert.throws(() => resolvePolicies({}, { 'stall-timeout': 'soon' }), /--stall-timeout 'soon' is not a duration/);
    assert.throws(() => resolvePolicies({}, { 'wait-up': '500ms' }), /--wait-up 500ms is out of range/);
    assert.deepEqual(resolvePolicies({}, { nope: 1 }).problems.map((p) => p.message), ['--nope is not a policy']);
  });
  it('a file value of the wrong kind is a problem (strings are not numbers in a file)', () => {
    const r = resolvePolicies({ concurrency: '4' }, {});
    assert.equal(r.problems[0]?.path, '/policies/concurrency');
    assert.equal(r.sources.concurrency, 'default');
  });
  it('drainOptionsFrom gives the drain every drain policy; resolved it equals the defaults', () => {
    const o = drainOptionsFrom(defaultPolicies());
    assert.equal(o.runId, undefined);
    assert.equal(o.dryRun, undefined);
    const { dryRun: _d, requestGraceMs: _r, maxPollErrors: _m, admin: _a, ...rest } = resolveDrainOptions(o);
    const { dryRun: _d2, requestGraceMs: _r2, maxPollErrors: _m2, admin: _a2, ...defaults } = DRAIN_DEFAULTS;
    assert.deepEqual(rest, { ...defaults, pollIntervalMs: 2000 });
    const custom = drainOptionsFrom(resolvePolicies({ targets: ['c2'], 'probe-port': 16509, 'on-timeout': 'wait' }).policies);
    assert.deepEqual([custom.targets, custom.probePort, custom.onTimeout], [['c2'], 16509, ['wait']]);
    // The ladder: a list, or a comma-separated text, in order.
    assert.deepEqual(drainOptionsFrom(resolvePolicies({ 'on-timeout': 'force-complete, abort' }).policies).onTimeout, ['force-complete', 'abort']);
    assert.deepEqual(drainOptionsFrom(resolvePolicies({ 'on-timeout': ['wait', 'abort'] }).policies).onTimeout, ['wait', 'abort']);
  });
  it('undrainOptionsFrom: wait-up, concurrency, retries, timeouts, poll interval', () => {
    const p = resolvePolicies({ 'wait-up': '15m', concurrency: 4, retries: 1, 'stall-timeout': '1m', 'poll-interval': '3s' }).policies;
    assert.deepEqual(undrainOptionsFrom(p), { waitUpTimeoutMs: 900_000, concurrency: 4, retries: 1, migrationTimeoutMs: 3_600_000, stallTimeoutMs: 60_000, onTimeout: ['abort'], pollIntervalMs: 3_000 });
  });
  it('policy flags: one per policy, grouped, described, no defaults, choices for enums', () => {
    const flags = policyFlagOptions('run');
    assert.deepEqual(Object.keys(flags), POLICIES.map((p) => p.flag ?? p.key));
    for (const [k, o] of Object.entries(flags)) {
      assert.equal(o.default, undefined, k);
      assert.equal(o.group, 'Policies (override the workflow file):');
      assert.ok(typeof o.describe === 'string' && o.describe.length > 10, k);
    }
    assert.deepEqual(flags['stopped']?.choices, ['cold', 'leave', 'fail']);
    // A list (the on-timeout ladder) is a string flag, checked by the policy table (a comma-separated value is no yargs choice).
    assert.equal(flags['on-timeout']?.choices, undefined);
  });
  it('the schema has every policy, each with a description', () => {
    const props = ((workflowSchema().properties as Record<string, Record<string, unknown>>).policies?.properties ?? {}) as Record<string, { description?: string }>;
    assert.deepEqual(Object.keys(props), POLICIES.map((p) => p.key));
    for (const [k, v] of Object.entries(props)) assert.ok(v.description, k);
  });
});
