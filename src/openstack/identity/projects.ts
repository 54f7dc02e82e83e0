/**
 * Project names for the project ids on instances (Keystone GET /v3/projects/{id}), so that people
 * read "shop" instead of a 32-character id. Best effort by design: a project the token may not
 * read (403: Keystone's identity:get_project is admin or the project's own members), one that is
 * gone (404), or a failing Keystone leaves the id as it is. Each id is asked once per session,
 * at most PROJECT_LOOKUPS_IN_FLIGHT at a time.
 */
import type { CallOptions, ProjectNames } from '../api.js';
import type { ServiceClient } from '../service-client.js';

export type { ProjectNames } from '../api.js';

export const PROJECT_LOOKUPS_IN_FLIGHT = 4;

export function projectNames(identity: ServiceClient): ProjectNames {
  const known = new Map<string, Promise<string | null>>();
  const lookup = async (id: string, opts: CallOptions): Promise<string | null> => {
    try {
      const r = await identity.request<{ project?: { name?: unknown } }>({ method: 'GET', path: `/projects/${encodeURIComponent(id)}`, ...opts });
      return typeof r.data?.project?.name === 'string' && r.data.project.name !== '' ? r.data.project.name : null;
    } catch {
      return null;
    }
  };
  return {
    async names(ids, opts = {}) {
      const todo = [...new Set(ids)].filter((id) => id !== '' && !known.has(id));
      for (let i = 0; i < todo.length; i += PROJECT_LOOKUPS_IN_FLIGHT) {
        const batch = todo.slice(i, i + PROJECT_LOOKUPS_IN_FLIGHT);
        for (const id of batch) known.set(id, lookup(id, opts));
        await Promise.all(batch.map((id) => known.get(id)));
      }
      const out = new Map<string, string>();
      for (const id of new Set(ids)) {
        const name = await known.get(id);
        if (name) out.set(id, name);
      }
      return out;
    },
  };
}
