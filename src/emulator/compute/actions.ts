/**
 * Instance actions: every request that changes a server records an action
 * (create, live-migration, migrate, stop ...) with the events its steps
 * report (conductor and compute, with their result and error details);
 * GET /servers/{id}/os-instance-actions(/{request_id}).
 */
import type { Engine } from '../engine.js';
import type { Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { ServerState } from '../model.js';
import { vAtLeast } from '../model.js';
import type { Wrap } from './api.js';
import { naive, ok } from './api.js';
import type { Servers } from './servers.js';
import { hostId } from './servers.js';

export interface ActionEvent {
  event: string;
  startTime: number;
  finishTime: number | null;
  result: 'Success' | 'Error' | null;
  traceback: string | null;
  details: string | null;
  host: string | null;
}

export interface InstanceAction {
  action: string;
  requestId: string;
  serverId: string;
  userId: string;
  projectId: string;
  startTime: number;
  updatedAt: number;
  message: string | null;
  events: ActionEvent[];
}

export class InstanceActions {
  /** server id -> its actions, oldest first */
  readonly byServer = new Map<string, InstanceAction[]>();

  constructor(readonly engine: Engine) {}

  record(s: ServerState, action: string, requestId: string, userId: string, projectId: string, at = this.engine.now): InstanceAction {
    const a: InstanceAction = { action, requestId, serverId: s.id, userId, projectId, startTime: at, updatedAt: at, message: null, events: [] };
    let list = this.byServer.get(s.id);
    if (!list) {
      list = [];
      this.byServer.set(s.id, list);
    }
    list.push(a);
    return a;
  }

  startEvent(a: InstanceAction | undefined, event: string, host: string | null): ActionEvent | null {
    if (!a) return null;
    const e: ActionEvent = { event, startTime: this.engine.now, finishTime: null, result: null, traceback: null, details: null, host };
    a.events.push(e);
    a.updatedAt = this.engine.now;
    return e;
  }

  finishEvent(a: InstanceAction | undefined, e: ActionEvent | null, ok: boolean, details?: string): void {
    if (!a || !e) return;
    e.finishTime = this.engine.now;
    e.result = ok ? 'Success' : 'Error';
    if (!ok) {
      e.details = details ?? null;
      e.traceback = `Traceback (most recent call last):\n  File "nova/emulated.py", line 1, in ${e.event}\n${details ?? 'Error'}\n`;
      a.message = 'Error';
    }
    a.updatedAt = this.engine.now;
  }

  find(serverId: string, requestId: string): InstanceAction | undefined {
    return this.byServer.get(serverId)?.find((a) => a.requestId === requestId);
  }
}

export function actionsRoutes(h: Wrap, actions: InstanceActions, servers: Servers): Route[] {
  const actionView = (a: InstanceAction, v: [number, number]) => {
    const o: Obj = {
      action: a.action,
      instance_uuid: a.serverId,
      request_id: a.requestId,
      user_id: a.userId,
      project_id: a.projectId,
      start_time: naive(actions.engine.wall(a.startTime)),
      message: a.message,
    };
    if (vAtLeast(v, 58)) o['updated_at'] = naive(actions.engine.wall(a.updatedAt));
    return o;
  };

  const listActions = h((req, ctx) => {
    const s = servers.getIncludingDeleted(req.params['id']!, ctx);
    const list = [...(actions.byServer.get(s.id) ?? [])].sort((a, b) => b.startTime - a.startTime);
    return ok({ instanceActions: list.map((a) => actionView(a, ctx.version)) });
  });

  const showAction = h((req, ctx) => {
    const s = servers.getIncludingDeleted(req.params['id']!, ctx);
    const rid = req.params['rid']!;
    const a = actions.find(s.id, rid) ?? fail(404, `Action ${rid} not found`);
    const v = ctx.version;
    const o = actionView(a, v);
    const showEvents = ctx.isAdmin || vAtLeast(v, 51);
    if (showEvents) {
      o['events'] = a.events.map((e) => {
        const ev: Obj = { event: e.event, start_time: naive(actions.engine.wall(e.startTime)), finish_time: naive(e.finishTime === null ? null : actions.engine.wall(e.finishTime)), result: e.result };
        if (ctx.isAdmin) ev['traceback'] = e.traceback;
        if (ctx.isAdmin && vAtLeast(v, 62)) ev['host'] = e.host ?? '';
        if (vAtLeast(v, 62)) ev['hostId'] = e.host ? hostId(e.host, s.projectId) : '';
        if (vAtLeast(v, 84)) ev['details'] = e.details;
        return ev;
      });
    }
    return ok({ instanceAction: o });
  });

  return [route('GET', '/servers/:id/os-instance-actions', listActions), route('GET', '/servers/:id/os-instance-actions/:rid', showAction)];
}
