// The snapshot the server answers from, and the swap to a new one. A request takes the current snapshot when it
// starts and keeps it to the end, so it never sees two snapshots and never waits for a reload: a new snapshot is
// built completely beside the current one (its own DuckDB file), then one assignment makes it current; the old one is
// closed when its last request is done. A failed build leaves the current snapshot serving.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../runtime/logger.ts';
import { Snapshot } from './snapshot.ts';

export interface StoreOptions {
  /** Builds the current snapshot into `file`; `beside`: another snapshot is serving meanwhile. */
  buildCurrent(file: string, beside: boolean): Promise<Snapshot>;
  /** A fingerprint of the source; a change means a new snapshot is due (null: the source is not readable now). */
  fingerprint(): Promise<string | null>;
  /** Builds a past as-of date's snapshot (views over the lake), or null when there is none. */
  buildPast?(asOf: string): Promise<Snapshot | null>;
  /** Past as-of dates available, for error messages. */
  pastDates?(): Promise<string[]>;
  /** Ends builds under way (when the server stops). */
  stopBuilds?(): void;
  /** Build processes started so far: by the server itself, by its build host (for tests and the benchmark). */
  buildCounts?(): Readonly<{ forkedHere: number; forkedByHost: number; lastBuildPid: number }>;
  /** Folder for snapshot database files. */
  dir: string;
  /** The folder for the next snapshot's files, given the current one (default: dir). */
  dirFor?(current: Snapshot | undefined): Promise<string>;
  log: Logger;
  /** Past snapshots kept open (default 2). */
  pastCache?: number;
}

let stores = 0;

export class SnapshotStore {
  private cur: Snapshot | undefined;
  private curPrint: string | null = null;
  private building: Promise<boolean> | null = null;
  private seq = 0;
  private readonly id = ++stores;
  private timer: NodeJS.Timeout | undefined;
  private readonly past = new Map<string, Promise<Snapshot | null>>();
  /** Swaps done and the last build error (for /health). */
  swaps = 0;
  lastError: string | null = null;

  constructor(private readonly o: StoreOptions) {}

  get buildCounts() {
    return this.o.buildCounts?.();
  }

  get current(): Snapshot | undefined {
    return this.cur;
  }

  /** Builds a new snapshot now and swaps to it; false (current kept) when the build fails. Concurrent calls share one build. */
  reload(): Promise<boolean> {
    this.building ??= this.build().finally(() => {
      this.building = null;
    });
    return this.building;
  }

  private async build(): Promise<boolean> {
    const started = Date.now();
    try {
      const print = await this.o.fingerprint();
      const dir = (await this.o.dirFor?.(this.cur)) ?? this.o.dir;
      await mkdir(dir, { recursive: true });
      // the process and the store in the name: stores of one process may share a folder (the memory one)
      const file = join(dir, `snapshot-${process.pid}-${this.id}-${++this.seq}.duckdb`);
      const next = await this.o.buildCurrent(file, this.cur !== undefined);
      const old = this.cur;
      this.cur = next;
      this.curPrint = print;
      this.swaps++;
      this.lastError = null;
      old?.retire();
      this.o.log.info('snapshot loaded', { asOf: next.asOf, customers: next.customers, source: next.source, ms: Date.now() - started, swaps: this.swaps });
      return true;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.o.log.warn('snapshot not loaded; serving the previous one', { error: this.lastError, current: this.cur?.asOf ?? null });
      return false;
    }
  }

  /** Reloads when the source's fingerprint changed since the current snapshot. */
  async refresh(): Promise<boolean> {
    const print = await this.o.fingerprint().catch(() => null);
    if (print === null || (this.cur && print === this.curPrint)) return false;
    return this.reload();
  }

  /** Checks for a new snapshot every `ms` milliseconds. */
  poll(ms: number): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => void this.refresh(), ms);
    this.timer.unref();
  }

  /**
   * Runs fn with the snapshot for `asOf` (the current one when absent or equal to its date), held for fn's whole run.
   * Undefined when there is no snapshot for the date.
   */
  async use<T>(asOf: string | undefined, fn: (s: Snapshot) => Promise<T>): Promise<{ found: true; value: T } | { found: false }> {
    let s: Snapshot | null | undefined = this.cur;
    if (asOf !== undefined && asOf !== s?.asOf) s = await this.pastSnapshot(asOf);
    if (!s) return { found: false };
    s.acquire();
    try {
      return { found: true, value: await fn(s) };
    } finally {
      s.release();
    }
  }

  private pastSnapshot(asOf: string): Promise<Snapshot | null> {
    if (!this.o.buildPast) return Promise.resolve(null);
    let p = this.past.get(asOf);
    if (!p) {
      p = this.o.buildPast(asOf).catch((e) => {
        this.o.log.warn('past snapshot not loaded', { asOf, error: (e as Error).message });
        this.past.delete(asOf);
        return null;
      });
      this.past.set(asOf, p);
      const max = this.o.pastCache ?? 2;
      while (this.past.size > max) {
        const [oldest, op] = this.past.entries().next().value!;
        this.past.delete(oldest);
        void op.then((s) => s?.retire());
      }
    }
    return p;
  }

  async pastDates(): Promise<string[]> {
    return this.o.pastDates ? this.o.pastDates().catch(() => []) : [];
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.o.stopBuilds?.(); // a build under way would otherwise hold the stop for as long as it takes
    await this.building;
    this.cur?.retire();
    this.cur = undefined;
    for (const p of this.past.values()) (await p)?.retire();
    this.past.clear();
  }
}

export { Snapshot };
