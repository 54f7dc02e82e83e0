/**
 * --max-total: the moves in flight of every drain of one rolling run, in this process. Each
 * drain's poll sets its own count, and reserves one before each request, so drains polling side
 * by side never take more than `max` between them.
 */
export class MoveBudget {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** The moves in flight of every run but `runId`. */
  others(runId: string): number {
    let n = 0;
    for (const [id, c] of this.counts) if (id !== runId) n += c;
    return n;
  }

  set(runId: string, inFlight: number): void {
    this.counts.set(runId, inFlight);
  }

  /** A drain that ended (or stopped polling for good): its moves count no more. */
  release(runId: string): void {
    this.counts.delete(runId);
  }
}
