/**
 * The shared compute and placement contracts against the real OpenStack lab.
 * Skips with a message when no lab runs; fails under CI (CI must run it).
 * HOSTMAINT_CONTRACT_COMPUTE_MV caps the compute microversion (e.g. 2.52 to
 * run the pre-2.53 branches against the real Nova).
 */
import { createLabCloud } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import { defineComputeContract } from '../contract/compute-contract.js';
import { definePlacementContract } from '../contract/placement-contract.js';
import { acquireLabLock, requireLab } from './lab.js';

describe('contract: real OpenStack lab', function () {
  this.timeout(600_000);
  let cloud: CloudUnderTest | null = null;
  let releaseLock: (() => void) | null = null;

  before(async function () {
    const lab = requireLab(this);
    // The suites boot servers, disable hosts and move servers: one such suite at a time.
    releaseLock = await acquireLabLock('contract');
    cloud = await createLabCloud(lab!, {
      computeMicroversion: process.env['HOSTMAINT_CONTRACT_COMPUTE_MV'] || undefined,
      placementMicroversion: process.env['HOSTMAINT_CONTRACT_PLACEMENT_MV'] || undefined,
    });
    console.log(`    lab: compute ${cloud.session.compute.microversion}, placement ${cloud.session.placement.microversion}`);
  });

  after(async () => {
    await cloud?.close?.();
    releaseLock?.();
  });

  const get = (): CloudUnderTest => {
    if (!cloud) throw new Error('no cloud');
    return cloud;
  };
  defineComputeContract(get);
  definePlacementContract(get);
});
