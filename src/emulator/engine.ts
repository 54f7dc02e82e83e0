/**
 * A tiny discrete-event engine: timed callbacks kept in a min-heap and run in
 * time order by `advance(now)`. The emulator calls `advance(clock.now())`
 * before it answers any request (and before a test reads its state), so the
 * model is always evaluated at the clock's current instant, and every event
 * runs with `engine.now` equal to its own scheduled time (timestamps in the
 * model are exact, whatever the clock's granularity).
 */
export interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  label: string;
}

export class Engine {
  /** Model time: the time of the event running, or the last advance. */
  now: number;
  private heap: Timer[] = [];
  private seq = 0;
  private running = false;

  /** The real time a model time stands for (see Clock.toWall): what the API shows; and back, for the times a client sends. */
  readonly wall: (ms: number) => number;
  readonly fromWall: (ms: number) => number;

  constructor(start: number, clock?: { toWall?(ms: number): number; fromWall?(ms: number): number }) {
    this.now = start;
    this.wall = clock?.toWall ? (ms) => Math.round(clock.toWall!(ms)) : (ms) => ms;
    this.fromWall = clock?.fromWall ? (ms) => clock.fromWall!(ms) : (ms) => ms;
  }

  /** Run `fn` at model time `at` (not before the current model time). */
  at(at: number, label: string, fn: () => void): Timer {
    const t: Timer = { at: Math.max(at, this.now), seq: this.seq++, fn, cancelled: false, label };
    this.push(t);
    return t;
  }

  /** Run `fn` `ms` after the current model time. */
  after(ms: number, label: string, fn: () => void): Timer {
    return this.at(this.now + Math.max(0, ms), label, fn);
  }

  cancel(t: Timer | null | undefined): void {
    if (t) t.cancelled = true;
  }

  /** Number of pending (not cancelled) timers. */
  pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /** Time of the next pending timer, or null. */
  next(): number | null {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0]?.at ?? null;
  }

  /** Run every timer due at or before `now`, in order; then model time = now. */
  advance(now: number): void {
    if (this.running) return; // re-entrant call from inside an event: already advancing
    this.running = true;
    try {
      for (;;) {
        const top = this.heap[0];
        if (!top || top.at > now) break;
        this.pop();
        if (top.cancelled) continue;
        if (top.at > this.now) this.now = top.at;
        top.fn();
      }
      if (now > this.now) this.now = now;
    } finally {
      this.running = false;
    }
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
