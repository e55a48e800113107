/** Counts operations in flight so that shutdown can wait for them. */
export class InFlight {
  private n = 0;
  private waiters: (() => void)[] = [];

  async track<T>(op: () => Promise<T>): Promise<T> {
    this.n++;
    try {
      return await op();
    } finally {
      if (--this.n === 0) {
        const ws = this.waiters;
        this.waiters = [];
        for (const w of ws) w();
      }
    }
  }

  get count(): number {
    return this.n;
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
}
