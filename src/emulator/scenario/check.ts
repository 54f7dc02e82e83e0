/**
 * A scenario's references, checked after the schema: names are unique, every
 * instance's host, flavor, project, image and server group exist, no host is
 * over capacity and server group policies hold.
 */
import type { FlavorSpec, Scenario } from './spec.js';
import { DEFAULT_FLAVORS, hostWithDefaults } from './spec.js';

export function checkReferences(sc: Scenario): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const dup = (items: Array<{ name: string }>, where: string) => {
    const seen = new Set<string>();
    items.forEach((it, i) => {
      if (seen.has(it.name)) problems.push({ path: `/${where}/${i}/name`, message: `duplicate name "${it.name}"` });
      seen.add(it.name);
    });
  };
  dup(sc.hosts, 'hosts');
  if (sc.hosts.length === 0) problems.push({ path: '/hosts', message: 'a scenario needs at least one host' });
  const flavors = sc.flavors ?? DEFAULT_FLAVORS;
  dup(flavors, 'flavors');
  dup(sc.projects ?? [], 'projects');
  dup(sc.server_groups ?? [], 'server_groups');
  const hypNames = new Set<string>();
  sc.hosts.forEach((h, i) => {
    const hh = h.hypervisor_hostname ?? h.name;
    if (hypNames.has(hh)) problems.push({ path: `/hosts/${i}/hypervisor_hostname`, message: `duplicate hypervisor hostname "${hh}"` });
    hypNames.add(hh);
    if (h.status !== 'disabled' && h.disabled_reason) problems.push({ path: `/hosts/${i}/disabled_reason`, message: 'disabled_reason needs status: disabled' });
    if (h.disabled_reason === '') problems.push({ path: `/hosts/${i}/disabled_reason`, message: 'must be 1-255 characters (or null)' });
  });
  const hosts = new Map(sc.hosts.map((h) => [h.name, hostWithDefaults(sc, h)]));
  const flavorByName = new Map<string, FlavorSpec>();
  for (const f of flavors) {
    flavorByName.set(f.name, f);
    if (f.id) flavorByName.set(f.id, f);
  }
  const projects = new Set(['admin', ...(sc.projects ?? []).map((p) => p.name)]);
  const groups = new Map((sc.server_groups ?? []).map((g) => [g.name, g]));
  const images = new Set((sc.images ?? [{ name: 'cirros' }]).flatMap((i) => [i.name, ...(i.id ? [i.id] : [])]));
  const users = new Set([sc.keystone?.admin?.username ?? 'admin', ...(sc.projects ?? []).flatMap((p) => (p.users ?? []).map((u) => u.name))]);
  (sc.application_credentials ?? []).forEach((a, i) => {
    if (!users.has(a.user)) problems.push({ path: `/application_credentials/${i}/user`, message: `unknown user "${a.user}"` });
    if (a.project && !projects.has(a.project)) problems.push({ path: `/application_credentials/${i}/project`, message: `unknown project "${a.project}"` });
  });
  (sc.server_groups ?? []).forEach((g, i) => {
    if (g.project && !projects.has(g.project)) problems.push({ path: `/server_groups/${i}/project`, message: `unknown project "${g.project}"` });
  });
  const used = new Map<string, { vcpu: number; ram: number; disk: number }>();
  const groupHosts = new Map<string, string[]>();
  const names = new Set<string>();
  (sc.instances ?? []).forEach((inst, i) => {
    const at = `/instances/${i}`;
    if (names.has(inst.name)) problems.push({ path: `${at}/name`, message: `duplicate instance name "${inst.name}"` });
    names.add(inst.name);
    const f = flavorByName.get(inst.flavor);
    if (!f) problems.push({ path: `${at}/flavor`, message: `unknown flavor "${inst.flavor}"` });
    if (inst.project && !projects.has(inst.project)) problems.push({ path: `${at}/project`, message: `unknown project "${inst.project}"` });
    if (inst.image && !images.has(inst.image)) problems.push({ path: `${at}/image`, message: `unknown image "${inst.image}"` });
    const state = inst.state ?? 'ACTIVE';
    if (state === 'SHELVED_OFFLOADED') {
      if (inst.host) problems.push({ path: `${at}/host`, message: 'a SHELVED_OFFLOADED instance has no host' });
    } else if (!inst.host) {
      if (state !== 'BUILD') problems.push({ path: `${at}/host`, message: `an instance in state ${state} needs a host` });
    } else if (!hosts.has(inst.host)) {
      problems.push({ path: `${at}/host`, message: `unknown host "${inst.host}"` });
    } else if (f) {
      const h = hosts.get(inst.host)!;
      const u = used.get(inst.host) ?? { vcpu: 0, ram: 0, disk: 0 };
      u.vcpu += f.vcpus;
      u.ram += f.ram_mb;
      u.disk += (f.disk_gb ?? 0) + (f.ephemeral_gb ?? 0);
      used.set(inst.host, u);
      const capV = Math.floor((h.vcpus - h.reserved_vcpus) * h.cpu_allocation_ratio);
      const capR = Math.floor((h.ram_mb - h.reserved_host_memory_mb) * h.ram_allocation_ratio);
      const capD = Math.floor((h.disk_gb - h.reserved_host_disk_gb) * h.disk_allocation_ratio);
      if (u.vcpu > capV || u.ram > capR || u.disk > capD) {
        problems.push({
          path: `${at}/host`,
          message: `host "${inst.host}" is over capacity with this instance (VCPU ${u.vcpu}/${capV}, MEMORY_MB ${u.ram}/${capR}, DISK_GB ${u.disk}/${capD})`,
        });
      }
      if (inst.az && h.az && inst.az !== h.az) problems.push({ path: `${at}/az`, message: `instance az "${inst.az}" but host "${inst.host}" is in "${h.az}"` });
    }
    if (inst.server_group) {
      const g = groups.get(inst.server_group);
      if (!g) problems.push({ path: `${at}/server_group`, message: `unknown server group "${inst.server_group}"` });
      else if (inst.host) {
        const hs = groupHosts.get(g.name) ?? [];
        if (g.policy === 'anti-affinity' && hs.filter((x) => x === inst.host).length >= (g.max_server_per_host ?? 1)) {
          problems.push({ path: `${at}/host`, message: `anti-affinity group "${g.name}" already has a member on "${inst.host}"` });
        }
        if (g.policy === 'affinity' && hs.length > 0 && hs[0] !== inst.host) {
          problems.push({ path: `${at}/host`, message: `affinity group "${g.name}" members are on "${hs[0]}"` });
        }
        hs.push(inst.host);
        groupHosts.set(g.name, hs);
      }
    }
  });
  return problems;
}
