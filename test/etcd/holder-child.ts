/**
 * A runner in a child process for the takeover tests: takes HOST under an etcd
 * lease, prints "held <lease>", then keeps it alive until it is killed.
 * Usage: node --import tsx test/etcd/holder-child.ts ENDPOINTS CLOUDKEY HOST RUNID TTL
 */
import { EtcdCoordination } from '../../src/runs/coord/etcd.js';

const [endpoints, cloudKey, host, runId, ttl] = process.argv.slice(2);
const coord = new EtcdCoordination({ endpoints: endpoints!.split(','), cloudKey: cloudKey!, cloudName: 'test', ttlSeconds: Number(ttl) });
const lock = await coord.acquireHost({ host: host!, runId: runId!, command: 'drain' });
process.stdout.write(`held ${(lock as unknown as { leaseId: string }).leaseId}\n`);
setInterval(() => undefined, 1000);
