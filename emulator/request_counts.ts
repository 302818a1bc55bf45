/**
 * Counts Calendar API calls by method name (`events.list`, ...), failed ones included, so
 * benchmarks can report how many calls a sync cost.
 */
export class RequestCounts {
  #counts = new Map<string, number>();

  count(method: string): void {
    this.#counts.set(method, (this.#counts.get(method) ?? 0) + 1);
  }

  snapshot(): { counts: Record<string, number>; total: number } {
    const counts = Object.fromEntries(this.#counts);
    return { counts, total: [...this.#counts.values()].reduce((a, b) => a + b, 0) };
  }

  clear(): void {
    this.#counts.clear();
  }
}
