/**
 * Scenario generators: a scenario may name one (`generator: { name: big, ... }`)
 * to be built in code instead of listed host by host.
 */
import type { FlavorSpec, HostSpec, InstanceSpec, ProjectSpec, Scenario } from './spec.js';

export type ScenarioGenerator = (params: Record<string, unknown>) => Scenario;

function num(params: Record<string, unknown>, key: string, dflt: number): number {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/**
 * `big`: many hosts, one of them crowded. Defaults: 500 hosts (compute-001 ..
 * compute-500), 200 instances on compute-001, 2,000 instances in all, spread
 * round-robin over the other hosts; 3 projects; 4 AZs.
 */
export function generateBig(params: Record<string, unknown> = {}): Scenario {
  const hostCount = num(params, 'hosts', 500);
  const onFirst = num(params, 'instances_on_first', 200);
  const total = num(params, 'instances', 2000);
  const width = Math.max(2, String(hostCount).length);
  const hostName = (i: number) => `compute-${String(i).padStart(width, '0')}`;
  const hosts: HostSpec[] = [];
  for (let i = 1; i <= hostCount; i++) {
    hosts.push({ name: hostName(i), az: `az-${((i - 1) % 4) + 1}`, vcpus: 128, ram_mb: 786432, disk_gb: 10000 });
  }
  const flavors: FlavorSpec[] = [
    { name: 'b1.small', id: 'b1', vcpus: 1, ram_mb: 1024, disk_gb: 10 },
    { name: 'b1.medium', id: 'b2', vcpus: 2, ram_mb: 2048, disk_gb: 20 },
    { name: 'b1.large', id: 'b3', vcpus: 4, ram_mb: 4096, disk_gb: 40 },
  ];
  const projects: ProjectSpec[] = ['alpha', 'beta', 'gamma'].map((p) => ({ name: p, users: [{ name: `${p}-user`, password: `${p}-pass` }] }));
  const instances: InstanceSpec[] = [];
  const fl = ['b1.small', 'b1.medium', 'b1.large'];
  for (let i = 0; i < total; i++) {
    const host = i < onFirst ? hostName(1) : hostName(2 + ((i - onFirst) % Math.max(1, hostCount - 1)));
    instances.push({
      name: `vm-${String(i + 1).padStart(5, '0')}`,
      project: projects[i % projects.length]!.name,
      flavor: fl[i % fl.length]!,
      host: hostCount === 1 ? hostName(1) : host,
      state: i % 10 === 9 ? 'SHUTOFF' : 'ACTIVE',
    });
  }
  return {
    name: `big-${hostCount}-hosts`,
    description: `${hostCount} hosts, ${onFirst} instances on ${hostName(1)}, ${total} in total (generated)`,
    hosts,
    flavors,
    projects,
    instances,
    migration: { bandwidth_mbps: 2000, dirty_rate_mbps: 20, schedule_ms: 200, preparing_ms: 500, post_migrating_ms: 500 },
  };
}

export const GENERATORS: Record<string, ScenarioGenerator> = { big: generateBig };
