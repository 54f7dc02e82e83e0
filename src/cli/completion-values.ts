/**
 * The values shell completion offers beyond commands and flags: cloud names (clouds.yaml, and
 * demo), run ids (the state directory and the demo cloud's), workflow names (the lookup order of
 * `hostmaint workflow list`), and hosts. Hosts come from a short-lived cache that drain, plan and
 * undrain keep of the compute hosts they saw (HOSTS_CACHE_TTL_MS), and from saved runs: completion
 * never calls the cloud, never prompts, and stays quiet on any error.
 */
import os from 'node:os';
import path from 'node:path';
import { loadCloudsConfig } from '../config/cloud-files.js';
import { defaultStateDir, RunStore } from '../runs/store.js';
import { listWorkflows } from '../workflow-file/find.js';
import { POLICIES } from '../policies/policies.js';
import { demoStateDir } from './demo-cloud.js';
import { cachedHosts } from './hosts-cache.js';

/** What completion knows of the command line being typed. */
export interface CompletionLine {
  /** The parsed words so far (yargs' argv, the word being typed included). */
  argv: Record<string, unknown>;
  /** The word being typed, and the one before it. */
  current: string;
  previous: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  now?: number;
}

type Wanted = 'clouds' | 'runs' | 'run-targets' | 'workflows' | 'hosts' | 'run-hosts';

/** Which values fit the word being typed: a flag's value, or the command's positional. */
function wanted(line: CompletionLine): Wanted | null {
  if (line.previous === '--os-cloud') return 'clouds';
  if (line.previous === '--target' || line.previous === '--targets') return 'hosts';
  if (line.current.startsWith('-')) return null;
  const a = line.argv;
  const command = String((a._ as unknown[] | undefined)?.[0] ?? '');
  const is = (v: unknown) => v === line.current || (Array.isArray(v) && v.length > 0 && v[v.length - 1] === line.current);
  if ((command === 'drain' || command === 'plan' || command === 'undrain' || command === 'doctor') && is(a.host)) return 'hosts';
  if ((command === 'resume' || command === 'continue') && is(a.runId ?? a['run-id'])) return 'runs';
  if (command === 'status' && is(a.target)) return 'run-targets';
  if (command === 'history' && is(a.host)) return 'run-hosts';
  if (command === 'run' && is(a.workflow)) return 'workflows';
  if (command === 'run' && is(a.hosts)) return 'hosts';
  if (command === 'workflow' && is(a.file)) return 'workflows';
  return null;
}

/**
 * A list flag's values (--on-timeout force-complete,abort; --instance-policies live,cold): each
 * choice, and after a comma the list typed so far with each choice not in it yet.
 */
function listChoices(line: CompletionLine): string[] | null {
  const p = POLICIES.find((x) => x.kind === 'enum-list' && line.previous === `--${x.flag ?? x.key}`);
  if (!p || p.kind !== 'enum-list') return null;
  const cut = line.current.lastIndexOf(',');
  if (cut < 0) return [...p.choices];
  const head = line.current.slice(0, cut);
  const have = head.split(',');
  return p.choices.filter((c) => !have.includes(c)).map((c) => `${head},${c}`);
}

/** The values to offer for the word being typed (not yet filtered by what is typed). */
export async function completionValues(line: CompletionLine): Promise<string[]> {
  const list = listChoices(line);
  if (list !== null) return list;
  const want = wanted(line);
  if (want === null) return [];
  const env = line.env;
  const stateDir = typeof line.argv.stateDir === 'string' && line.argv.stateDir !== '' ? path.resolve(line.argv.stateDir) : defaultStateDir(env);
  const stateDirs = [stateDir, demoStateDir(stateDir)];
  const cloud = typeof line.argv.osCloud === 'string' && line.argv.osCloud !== '' ? line.argv.osCloud : (env.OS_CLOUD ?? null);
  const runs = async () => {
    const all = [];
    for (const dir of stateDirs) {
      try {
        all.push(...(await new RunStore(dir).list()).records);
      } catch {
        // no state directory yet, or one this user cannot read
      }
    }
    return all;
  };
  try {
    switch (want) {
      case 'clouds': {
        const cfg = loadCloudsConfig({ cwd: line.cwd ?? process.cwd(), home: line.home ?? env.HOME ?? os.homedir(), env, systemDir: '/etc/openstack' });
        return [...new Set(['demo', ...Object.keys(cfg.clouds)])];
      }
      case 'runs':
        return (await runs()).map((r) => r.runId);
      case 'run-targets': {
        const rs = await runs();
        return [...new Set([...rs.map((r) => r.runId), ...rs.map((r) => r.host)])];
      }
      case 'run-hosts':
        return [...new Set((await runs()).map((r) => r.host))];
      case 'workflows': {
        const dirs = line.argv.workflowsDir;
        const list = await listWorkflows({ dirs: Array.isArray(dirs) ? dirs.map(String) : undefined, env });
        return [...new Set(list.map((w) => w.name))];
      }
      case 'hosts': {
        const fromRuns = (await runs()).filter((r) => cloud === null || r.cloud === cloud).map((r) => r.host);
        return [...new Set([...cachedHosts(stateDirs, cloud, line.now), ...fromRuns])];
      }
    }
  } catch {
    return [];
  }
  return [];
}
