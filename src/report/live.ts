/**
 * The live view on a terminal: `renderFrame` draws a RunView as lines of at
 * most `width` columns (pure, snapshot-tested at fixed widths), and
 * `LiveTerminal` redraws it in place on stderr, ticking the clocks between
 * events. Narrow terminals lose columns in a fixed order (size, bar,
 * project, rate, route...) instead of wrapping; NO_COLOR gives the same layout
 * without colour.
 */
import { EXIT } from '../core/exit-codes.js';
import type { DrainPhase } from '../machines/events.js';
import { COLOR, PLAIN, clean, displayWidth, fit, truncate, type Style } from './ansi.js';
import { DRAIN_STEPS, PHASE_LABEL, RunView, UNDRAIN_STEPS, type InstanceView, type NotableKind } from './view-model.js';

export interface FrameOptions {
  width: number;
  /** Terminal rows; the frame keeps to rows - 1 lines. Null: no limit. */
  height?: number | null;
  color?: boolean;
  unicode?: boolean;
  /** "Now" in ms (the clock of the events). Default: the last event's time. */
  now?: number;
  /** Cloud name for the header. */
  cloud?: string | null;
  /** Number of notable events to show (default 5). */
  recent?: number;
}

interface Glyphs {
  done: string;
  current: string;
  todo: string;
  full: string;
  failed: string;
  empty: string;
  arrow: string;
  sep: string;
  kinds: Record<NotableKind, string>;
}

const UNICODE: Glyphs = {
  done: '✓',
  current: '▶',
  todo: '·',
  full: '█',
  failed: '▓',
  empty: '░',
  arrow: '→',
  sep: '·',
  kinds: { ok: '✓', info: '·', warn: '!', error: '✗' },
};

const ASCII: Glyphs = {
  done: '+',
  current: '>',
  todo: '-',
  full: '#',
  failed: 'x',
  empty: '.',
  arrow: '->',
  sep: '|',
  kinds: { ok: '+', info: '-', warn: '!', error: 'x' },
};

// ------------------------------------------------------------------ formatting helpers

/** 0:07, 1:05, 1:02:03 */
export function clock(msValue: number | null): string {
  if (msValue === null || !Number.isFinite(msValue)) return '';
  const s = Math.max(0, Math.round(msValue / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export function bytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '';
  const gib = n / 1073741824;
  if (gib >= 10) return `${Math.round(gib)} GiB`;
  if (gib >= 1) return `${Math.round(gib * 10) / 10} GiB`;
  return `${Math.round(n / 1048576)} MiB`;
}

export function rate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps) || bps <= 0) return '';
  return `${bytes(bps)}/s`;
}

function bar(g: Glyphs, st: Style, width: number, done: number, failed: number, total: number): string {
  if (width <= 0) return '';
  if (total <= 0) return st.dim(g.empty.repeat(width));
  let nDone = Math.floor((done / total) * width);
  let nFailed = failed > 0 ? Math.max(1, Math.round((failed / total) * width)) : 0;
  if (done > 0 && nDone === 0) nDone = 1;
  if (done < total - failed && nDone + nFailed >= width) nDone = Math.max(0, width - nFailed - 1);
  if (nDone + nFailed > width) nFailed = width - nDone;
  const rest = width - nDone - nFailed;
  return st.green(g.full.repeat(nDone)) + st.red(g.failed.repeat(nFailed)) + st.dim(g.empty.repeat(rest));
}

// ------------------------------------------------------------------ columns

interface Column {
  key: string;
  header: string;
  /** Lower numbers survive longer on a narrow terminal. */
  priority: number;
  align: 'left' | 'right';
  /** Can be cut down to this many columns (names, routes). */
  min?: number;
  /** Width for the whole run (numbers, states), or more if a cell is wider; without it, the widest cell over every instance of the run. */
  fixed?: number;
  cell(v: InstanceView): string;
}

/**
 * Which columns fit in `width` (2 spaces between), and how wide each is. The widths do not come
 * from the rows on the screen (they change every frame) but from every instance of the run and
 * fixed widths for the numbers, so the columns stay put from frame to frame.
 */
function layout(columns: Column[], all: InstanceView[], width: number, indent: number): Array<{ col: Column; width: number }> {
  let chosen = columns.map((col) => ({
    col,
    // a fixed width grows (once) if a cell is wider after all: a Nova status like post-migrating, an hour-long clock
    width: Math.max(displayWidth(col.header), col.fixed ?? 0, ...all.map((r) => displayWidth(col.cell(r)))),
  }));
  const total = () => indent + chosen.reduce((s, c) => s + c.width, 0) + 2 * Math.max(0, chosen.length - 1);
  // shrink the flexible columns first, but not below their minimum
  const shrink = () => {
    for (const c of [...chosen].sort((a, b) => b.col.priority - a.col.priority)) {
      const over = total() - width;
      if (over <= 0) return;
      if (c.col.min !== undefined && c.width > c.col.min) c.width = Math.max(c.col.min, c.width - over);
    }
  };
  while (total() > width && chosen.length > 1) {
    const before = total();
    const flexible = chosen.filter((c) => c.col.min !== undefined && c.width > c.col.min);
    const fullWidth = indent + chosen.reduce((s, c) => s + (c.col.min !== undefined ? Math.min(c.width, c.col.min) : c.width), 0) + 2 * (chosen.length - 1);
    if (flexible.length > 0 && fullWidth <= width) {
      shrink();
      break;
    }
    const drop = chosen.reduce((worst, c) => (c.col.priority > worst.col.priority ? c : worst));
    chosen = chosen.filter((c) => c !== drop);
    if (total() === before) break;
  }
  if (total() > width) shrink();
  return chosen;
}

// ------------------------------------------------------------------ the frame

export function renderFrame(view: RunView, opts: FrameOptions): string[] {
  const width = Math.max(20, Math.floor(opts.width));
  const st = opts.color ? COLOR : PLAIN;
  const g = opts.unicode === false ? ASCII : UNICODE;
  const now = Math.max(opts.now ?? view.lastEventAt ?? 0, view.lastEventAt ?? 0);
  const counts = view.counts();
  const lines: string[] = [];
  const push = (s: string) => lines.push(truncate(s, width));

  // --- header: what, where, elapsed
  const elapsedMs = view.startedAt === null ? null : (view.finished?.at ?? now) - view.startedAt;
  const right = elapsedMs === null ? '' : clock(elapsedMs);
  const wfName = view.workflow?.name ?? null;
  const what = view.rolling
    ? `rolling ${clean(wfName ?? '')}`.trim()
    : view.workflow
      ? `run ${clean(view.workflow.name)} ${clean(view.host ?? '')}`.trim()
      : `${view.command ?? 'hostmaint'}${view.dryRun ? ' (plan)' : ''} ${clean(view.host ?? '')}`.trim();
  const headParts = [st.bold(`hostmaint ${what}`)];
  if (opts.cloud) headParts.push(`cloud ${clean(opts.cloud)}`);
  if (view.runId) headParts.push(st.dim(`run ${view.runId}`));
  let head = headParts.join(` ${g.sep} `);
  while (displayWidth(head) + displayWidth(right) + 2 > width && headParts.length > 1) {
    headParts.pop();
    head = headParts.join(` ${g.sep} `);
  }
  const gap = width - displayWidth(head) - displayWidth(right);
  push(gap >= 2 ? `${head}${' '.repeat(gap)}${right}` : head);

  // --- a rolling run: which host of how many; a workflow run: which step of how many
  if (view.rolling) push(rollingLine(view, st, g));
  if (view.workflow && (!view.finished || view.rolling === null)) push(stepLine(view, st, g, now));
  const drainShown = !view.workflow && !view.rolling ? true : view.innerActive;

  // --- phase line
  if (drainShown || view.finished) push(phaseLine(view, st, g, width));

  // --- overall bar (not in plan mode before anything moves)
  const summary: string[] = [];
  const total = counts.total;
  summary.push(`${counts.moved}/${total} moved`);
  if (counts.failed > 0) summary.push(st.red(`${counts.failed} failed`));
  // Under --concurrency N, N are requested from Nova but the source compute copies one (or its
  // max_concurrent_live_migrations) at a time: say which are copying, which wait in Nova's queue,
  // and which hostmaint has not requested yet.
  if (counts.running > 0) summary.push(`${counts.running} running`);
  if (counts.queued > 0) summary.push(`${counts.queued} queued in Nova`);
  if (counts.waiting > 0) summary.push(view.finished ? st.yellow(`${counts.waiting} not moved`) : `${counts.waiting} waiting`);
  if (counts.notMoving > 0) summary.push(st.yellow(`${counts.notMoving} staying`));
  // The whole drain's time left, once something is being moved: "ETA —" until a rate is measured.
  if (!view.finished && !view.dryRun && (view.phase === 'migrating' || view.phase === 'returning') && counts.moved + counts.failed < total) {
    const eta = view.drainEtaMs(now);
    // Second, after "moved", so a narrow terminal drops the other counts before it.
    summary.splice(1, 0, eta === null ? `ETA ${g === ASCII ? '-' : '—'}` : `ETA ${clock(eta)}`);
  }
  const summaryText = (n: number) => summary.slice(0, n).join(` ${g.sep} `);
  let shown = summary.length;
  while (shown > 1 && displayWidth(summaryText(shown)) + 12 > width) shown -= 1;
  const barWidth = Math.max(0, Math.min(40, width - displayWidth(summaryText(shown)) - 3));
  if (!drainShown) {
    // between the drain and undrain of a workflow run: no instance table
  } else if (view.dryRun && counts.moved === 0) {
    push(view.preflight ? `plan: ${view.preflight.planned} to move, ${view.preflight.unplaced} unplaced, ${view.preflight.blocking} blocking` : 'plan: checking, nothing will be changed');
  } else if (barWidth >= 8) {
    push(`${bar(g, st, barWidth, counts.moved, counts.failed, total)}  ${summaryText(shown)}`);
  } else {
    push(summaryText(shown));
  }

  // --- budget for the rest
  const maxLines = opts.height && opts.height > 0 ? Math.max(3, opts.height - 1) : Infinity;
  const recentWanted = Math.max(0, opts.recent ?? 5);
  // In flight, then those held back for more than the source's slots (a group member moving, a destination's limit, the source down).
  const held = [...view.instances.values()].filter((v) => v.state === 'waiting' && v.waitingFor !== null && v.waitingFor.kind !== 'source-slot');
  const flying = drainShown ? [...view.inFlight(), ...held] : [];
  let room = maxLines - lines.length;
  const recentLines = Math.min(recentWanted, view.notable.length);
  // table: blank + header + rows (+ "more" line); recent: blank + rows
  let recentShown = recentLines;
  let rowsShown = flying.length;
  const need = () => (rowsShown > 0 ? 2 + rowsShown + (rowsShown < flying.length ? 1 : 0) : 0) + (recentShown > 0 ? 1 + recentShown : 0);
  while (need() > room && recentShown > 1) recentShown -= 1;
  while (need() > room && rowsShown > 1) rowsShown -= 1;
  if (need() > room) recentShown = 0;
  while (need() > room && rowsShown > 0) rowsShown -= 1;

  if (rowsShown > 0) {
    lines.push('');
    lines.push(...table(flying.slice(0, rowsShown), { all: [...view.instances.values()], width, st, g, now, command: view.command }));
    if (rowsShown < flying.length) push(st.dim(`  … and ${flying.length - rowsShown} more in flight`));
  }
  room = maxLines - lines.length;
  if (recentShown > 0 && room >= 2) {
    lines.push('');
    const start = view.startedAt ?? view.notable[0]?.at ?? 0;
    for (const n of view.notable.slice(-Math.min(recentShown, room - 1))) {
      const icon = n.kind === 'ok' ? st.green(g.kinds.ok) : n.kind === 'warn' ? st.yellow(g.kinds.warn) : n.kind === 'error' ? st.red(g.kinds.error) : st.dim(g.kinds.info);
      const text = n.kind === 'error' ? st.red(n.text) : n.text;
      push(`${st.dim(`+${clock(n.at - start)}`.padStart(7))} ${icon} ${text}`);
    }
  }
  return lines.map((l) => truncate(l, width));
}

/** "step 5/8 maintenance (exec)", "steps 1-4/8 disable … verify-empty (drain)", with its state. */
function stepLine(view: RunView, st: Style, g: Glyphs, now: number): string {
  const w = view.workflow!;
  const c = w.current;
  const total = view.stepTotal ? `/${view.stepTotal}` : '';
  if (!c) return st.dim('starting');
  const unit = c.count > 1 ? (c.type === 'disable' ? 'drain' : c.type === 'enable' ? 'undrain' : `${c.count} steps`) : c.type;
  const which = c.count > 1 ? `steps ${c.index + 1}-${c.index + c.count}${total} ${clean(c.first)} … ${clean(c.last)} (${unit})` : `step ${c.index + 1}${total} ${clean(c.first)} (${unit})`;
  switch (c.state) {
    case 'waiting':
      // The approve step's message is in the recent events below; the command must not be cut off.
      return st.yellow(`${g.kinds.warn} ${which}: WAITING FOR APPROVAL: hostmaint continue ${view.runId ?? '<run>'}`);
    case 'failed':
      return st.red(`${g.kinds.error} ${which}: FAILED`);
    case 'ok':
      return st.green(`${g.done} ${which}`);
    default: {
      const wf = c.waitingFor;
      if (!wf) return st.bold(st.cyan(`${g.current} ${which}`));
      // A wait-for-service step: what it waits for, and how much of its timeout is left.
      const left = Math.max(0, wf.deadline - now);
      return `${st.bold(st.cyan(`${g.current} ${which}`))} · waiting for ${clean(wf.text)} · ${clock(left)} left`;
    }
  }
}

/** "host 2/3 compute-03 (wave 2) · 1 done". */
function rollingLine(view: RunView, st: Style, g: Glyphs): string {
  const r = view.rolling!;
  const list = view.hostList ?? [...r.hosts.keys()];
  const total = view.hostList ? `/${view.hostList.length}` : '';
  const focus = r.focus;
  const n = focus ? list.indexOf(focus) + 1 || r.hosts.size : r.hosts.size;
  const states = [...r.hosts.values()];
  const done = states.filter((h) => h.status === 'done').length;
  const failed = states.filter((h) => h.status === 'failed' || h.status === 'skipped').length;
  const running = [...r.hosts.entries()].filter(([, h]) => h.status === 'running').map(([name]) => name);
  const parts = [`host ${n}${total} ${clean(focus ?? '')} (wave ${r.wave})`];
  if (running.length > 1) parts.push(`${running.length} running`);
  parts.push(`${done} done`);
  if (failed > 0) parts.push(st.red(`${failed} failed`));
  return parts.join(` ${g.sep} `);
}

function phaseLine(view: RunView, st: Style, g: Glyphs, width: number): string {
  if (view.finished) {
    const f = view.finished;
    const text = `${f.outcome} (exit ${f.exitCode}): ${clean(f.message)}`;
    return f.exitCode === EXIT.OK ? st.green(`${g.done} ${text}`) : f.exitCode === EXIT.INTERRUPTED ? st.yellow(`${g.kinds.warn} ${text}`) : st.red(`${g.kinds.error} ${text}`);
  }
  const steps: DrainPhase[] = view.command === 'undrain' ? UNDRAIN_STEPS : view.dryRun ? ['resolving', 'preflight'] : DRAIN_STEPS;
  const current = view.phase;
  const seen = new Set(view.phases.map((p) => p.phase));
  const idx = current ? steps.indexOf(current) : -1;
  // Phases passed without being entered (no --wait-up, plan mode) are left out.
  const parts = steps.flatMap((p, i) => {
    const label = PHASE_LABEL[p];
    if (p === current) return [st.bold(st.cyan(`${g.current} ${label}`))];
    if (seen.has(p)) return [st.green(`${g.done} ${label}`)];
    if (idx >= 0 && i < idx) return [];
    return [st.dim(`${g.todo} ${label}`)];
  });
  if (current && idx < 0) parts.push(st.bold(st.yellow(`${g.current} ${PHASE_LABEL[current]}`)));
  const full = parts.join('  ');
  if (displayWidth(full) <= width) return full;
  const n = idx >= 0 ? idx + 1 : steps.length;
  return `phase ${st.bold(st.cyan(current ? PHASE_LABEL[current] : 'starting'))}${idx >= 0 ? ` (${n}/${steps.length})` : ''}`;
}

/** What a waiting instance waits for, in the STATE column (instance-waiting). */
const WAIT_LABEL: Record<string, string> = { 'source-slot': 'slot', destination: 'target', group: 'group', 'source-down': 'down', total: 'total' };

function stateCell(v: InstanceView, st: Style): string {
  const again = v.attempt > 1 ? ` #${v.attempt}` : '';
  switch (v.state) {
    case 'requested':
      return st.dim(`requested${again}`);
    case 'queued':
      return st.yellow(`${v.migrationStatus ?? 'queued'}${again}`);
    case 'running':
      if (v.stalledForMs >= 5_000) return st.red(`stalled ${clock(v.stalledForMs)}`);
      return st.cyan(`${v.migrationStatus ?? 'running'}${again}`);
    case 'retrying':
      return st.yellow(`retry #${v.attempt + 1}`);
    case 'waiting':
      // At most 12 columns, the STATE column's width.
      return v.waitingFor ? st.dim(`wait: ${WAIT_LABEL[v.waitingFor.kind] ?? 'other'}`) : v.state;
    default:
      return v.state;
  }
}

function table(rows: InstanceView[], o: { all: InstanceView[]; width: number; st: Style; g: Glyphs; now: number; command: 'drain' | 'undrain' | null }): string[] {
  const { st, g, now } = o;
  const all = [...o.all, ...rows.filter((r) => !o.all.includes(r))];
  const anyProject = all.some((r) => r.projectId !== null);
  // The route's width: any host known on both sides (destinations are usually named like the
  // source; an undrain learns the source only when a move completes), at least "scheduler" on the
  // right, so learning a host later moves nothing.
  const hostWidth = Math.max(0, ...all.flatMap((v) => [v.from, v.to, v.target]).filter((h): h is string => h !== null).map((h) => displayWidth(clean(h))));
  const routeWidth = Math.max(1, hostWidth) + displayWidth(g.arrow) + 2 + Math.max(displayWidth('scheduler'), hostWidth);
  const columns: Column[] = [
    { key: 'name', header: 'INSTANCE', priority: 1, align: 'left', min: 8, cell: (v) => v.name },
    ...(anyProject ? [{ key: 'project', header: 'PROJECT', priority: 8, align: 'left' as const, min: 8, cell: (v: InstanceView) => clean(v.projectName ?? v.projectId ?? '') }] : []),
    {
      key: 'route',
      header: `FROM ${g.arrow} TO`,
      priority: 6,
      align: 'left',
      fixed: routeWidth,
      cell: (v) => `${clean(v.from ?? '?')} ${g.arrow} ${clean(v.to ?? v.target ?? 'scheduler')}`,
    },
    { key: 'state', header: 'STATE', priority: 2, align: 'left', fixed: 12, cell: (v) => stateCell(v, st) },
    {
      key: 'bar',
      header: '',
      // before the project: the bar repeats MEM, and every column is there from the first frame
      priority: 9,
      align: 'left',
      fixed: 10,
      cell: (v) => (v.percent === null ? '' : bar(g, st, 10, v.percent, 0, 100)),
    },
    { key: 'pct', header: 'MEM', priority: 3, align: 'right', fixed: 4, cell: (v) => (v.percent === null ? '' : `${v.percent}%`) },
    { key: 'size', header: 'SIZE', priority: 10, align: 'right', fixed: 8, cell: (v) => bytes(v.memoryTotalBytes) },
    { key: 'rate', header: 'RATE', priority: 7, align: 'right', fixed: 10, cell: (v) => rate(v.state === 'running' ? v.rateBps : null) },
    { key: 'elapsed', header: 'ELAPSED', priority: 5, align: 'right', fixed: 5, cell: (v) => clock(v.firstStartedAt === null ? null : now - v.firstStartedAt) },
    {
      key: 'eta',
      header: 'ETA',
      priority: 4,
      align: 'right',
      fixed: 5,
      cell: (v) => {
        if (v.state !== 'running' || v.etaMs === null || v.lastSampleAt === null) return '';
        return clock(Math.max(0, v.etaMs - (now - v.lastSampleAt)));
      },
    },
  ];
  const indent = 2;
  const cols = layout(columns, all, o.width, indent);
  const line = (cells: string[]) => truncate(' '.repeat(indent) + cells.join('  ').replace(/\s+$/, ''), o.width);
  const out: string[] = [];
  out.push(st.dim(line(cols.map((c) => fit(c.col.header, c.width, c.col.align)))));
  for (const r of rows) out.push(line(cols.map((c) => fit(c.col.cell(r), c.width, c.col.align))));
  const queued = rows.some((r) => r.state === 'queued');
  if (queued && o.width >= 60) out.push(st.dim(truncate(`  queued: waiting for the source compute's migration slot (not stuck)`, o.width)));
  return out;
}

// ------------------------------------------------------------------ the terminal driver

export interface LiveTerminalOptions {
  stream: NodeJS.WritableStream;
  columns: () => number;
  rows: () => number | null;
  color: boolean;
  unicode: boolean;
  cloud: string | null;
  /** The run's clock (emulated clocks differ from the wall clock); default: event time + wall time since. */
  now?: () => number;
  /** A workflow run's number of steps, a rolling run's hosts (the events do not say). */
  steps?: number | null;
  hosts?: string[] | null;
  /** Redraw at most this often (ms). Default 100. */
  throttleMs?: number;
  /** Redraw this often without events, for the clocks (ms). Default 1000; 0: never. */
  tickMs?: number;
}

const ESC = '\u001b[';

/**
 * Redraws the frame in place: cursor up over the previous frame, each line
 * rewritten and cleared to its end, anything below erased. Other writes to
 * the same stream (log lines, the Ctrl-C notice) are let through above the
 * frame, which is then drawn again below them.
 */
export class LiveTerminal {
  readonly view = new RunView();
  /** Display widths of the lines of the frame on the screen (none: nothing drawn yet, or erased). */
  private drawn: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private tick: NodeJS.Timeout | null = null;
  private lastDraw = 0;
  private active = false;
  private closed = false;
  private writing = false;
  private originalWrite: NodeJS.WritableStream['write'] | null = null;
  private lastEventWall = Date.now();
  private shownNow = 0;
  private readonly onExit = () => this.restoreCursor();
  private readonly onResize = () => this.draw();

  constructor(private readonly opts: LiveTerminalOptions) {
    this.view.stepTotal = opts.steps ?? null;
    this.view.hostList = opts.hosts ?? null;
  }

  emit(e: Parameters<RunView['apply']>[0]): void {
    if (this.closed) return;
    this.view.apply(e);
    this.lastEventWall = Date.now();
    if (!this.active) this.start();
    this.schedule();
  }

  /** Draw the final frame and give the terminal back (cursor shown, writes restored). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.tick) clearInterval(this.tick);
    this.timer = null;
    this.tick = null;
    if (!this.active) return;
    this.draw(true);
    this.stop();
  }

  private start(): void {
    this.active = true;
    const stream = this.opts.stream as NodeJS.WritableStream & { on?: (ev: string, fn: () => void) => unknown };
    this.originalWrite = stream.write;
    const self = this;
    // Foreign writes: erase the frame, let the text through, draw the frame again below it.
    stream.write = function patched(this: NodeJS.WritableStream, chunk: unknown, ...rest: unknown[]): boolean {
      const write = self.originalWrite as (...a: unknown[]) => boolean;
      if (self.writing || !self.active) return write.call(stream, chunk, ...rest);
      self.writing = true;
      try {
        write.call(stream, self.eraseSequence());
        self.drawn = [];
        const ok = write.call(stream, chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '';
        if (text !== '' && !text.endsWith('\n')) write.call(stream, '\n');
        return ok;
      } finally {
        self.writing = false;
        self.schedule();
      }
    } as NodeJS.WritableStream['write'];
    this.raw(`${ESC}?25l`);
    process.once('exit', this.onExit);
    stream.on?.('resize', this.onResize);
    const tickMs = this.opts.tickMs ?? 1000;
    if (tickMs > 0) {
      this.tick = setInterval(() => this.draw(), tickMs);
      this.tick.unref();
    }
  }

  private stop(): void {
    this.active = false;
    if (this.originalWrite) (this.opts.stream as { write: unknown }).write = this.originalWrite;
    this.originalWrite = null;
    this.restoreCursor();
    process.off('exit', this.onExit);
    (this.opts.stream as { off?: (ev: string, fn: () => void) => unknown }).off?.('resize', this.onResize);
  }

  private restoreCursor(): void {
    this.raw(`${ESC}?25h`);
  }

  private raw(s: string): void {
    const write = (this.originalWrite ?? this.opts.stream.write) as (...a: unknown[]) => boolean;
    this.writing = true;
    try {
      write.call(this.opts.stream, s);
    } finally {
      this.writing = false;
    }
  }

  private eraseSequence(): string {
    const up = this.rowsDrawn();
    return up > 0 ? `${ESC}${up}F${ESC}J` : '';
  }

  /** Terminal rows the frame on the screen takes now: after the terminal got narrower, its lines wrapped. */
  private rowsDrawn(): number {
    const cols = Math.max(1, this.opts.columns() || 80);
    return this.drawn.reduce((n, w) => n + Math.max(1, Math.ceil(w / cols)), 0);
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, (this.opts.throttleMs ?? 100) - (Date.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, wait);
    this.timer.unref?.();
  }

  /** The run's "now": the caller's clock, or the last event's time plus the wall time since it (never backwards). */
  private now(): number {
    const base = this.opts.now ? this.opts.now() : (this.view.lastEventAt ?? 0) + (Date.now() - this.lastEventWall);
    this.shownNow = Math.max(this.shownNow, base, this.view.lastEventAt ?? 0);
    return this.shownNow;
  }

  private draw(final = false): void {
    if (!this.active) return;
    this.lastDraw = Date.now();
    const lines = renderFrame(this.view, {
      width: Math.max(20, (this.opts.columns() || 80) - 1),
      height: final ? null : this.opts.rows(),
      color: this.opts.color,
      unicode: this.opts.unicode,
      now: this.now(),
      cloud: this.opts.cloud,
    });
    // Overwrite in place (no blank flash): up to the frame's first line, each line cleared to its end, the rest below erased.
    const up = this.rowsDrawn();
    let out = up > 0 ? `${ESC}${up}F` : '';
    for (const l of lines) out += `${l}${ESC}K\n`;
    // The final frame stays on the screen, with a blank line before what follows (the result).
    this.raw(`${out}${ESC}J${final ? '\n' : ''}`);
    this.drawn = lines.map((l) => displayWidth(l));
  }
}
