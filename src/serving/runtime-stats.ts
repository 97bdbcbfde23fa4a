// Where a slow answer's time went, seen from inside the server: how late the event loop ran its timers (anything
// that held the main thread: a long synchronous step, a swap's work, the garbage collector, or the CPU being taken by
// other processes), the garbage collector's pauses, and each request's own handling time (from its first byte read to
// its answer written). Off by default; `C360_SERVE_RUNTIME_STATS=1` turns it on; `GET /health?runtime` then reports the figures
// since the previous such call and starts them again (the benchmark calls it before and after each phase).
import { constants, createHistogram, monitorEventLoopDelay, PerformanceObserver, type ELDHistogram, type RecordableHistogram } from 'node:perf_hooks';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface RuntimeFigures {
  seconds: number;
  /** How late timers ran (ms): the main thread was busy or not scheduled. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Garbage collector pauses by kind: count, total and longest (ms). */
  gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  /** Requests' handling time inside the server (ms), and how many took longer than 5 ms. */
  requestMs: { count: number; p50: number; p99: number; max: number; over5ms: number };
  /** When the main thread ran late by more than 10 ms: [epoch ms it was due to run, ms late] (at most 1,000). */
  stalls: [number, number][];
  /** Requests handled in more than 5 ms: [epoch ms they arrived, ms] (at most 1,000), to set beside other events. */
  slowRequests: [number, number][];
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;


export class RuntimeStats {
  private readonly loop: ELDHistogram;
  private readonly requests: RecordableHistogram = createHistogram();
  private over5 = 0;
  private gc: RuntimeFigures['gc'] = {};
  private readonly observer: PerformanceObserver;
  private since = performance.now();
  private stalls: [number, number][] = [];
  private slowRequests: [number, number][] = [];
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly resolutionMs = 5) {
    // A timer every 10 ms that notes when it ran late, and when: the histogram says how much, this says at what moment
    // (a stall beside a build step, a slow request, a swap).
    let due = performance.now() + 10;
    this.ticker = setInterval(() => {
      const now = performance.now();
      if (now - due > 10 && this.stalls.length < 1000) this.stalls.push([Math.round(performance.timeOrigin + due), Math.round(now - due)]);
      due = now + 10;
    }, 10);
    this.ticker.unref();
    this.loop = monitorEventLoopDelay({ resolution: resolutionMs });
    this.loop.enable();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? -1] ?? 'other';
        const g = (this.gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
        g.count++;
        g.totalMs += e.duration;
        g.maxMs = Math.max(g.maxMs, e.duration);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** A request took `ms` milliseconds from its arrival to its answer. */
  request(elapsedMs: number): void {
    this.requests.record(Math.max(1, Math.round(elapsedMs * 1000)));
    if (elapsedMs > 5) {
      this.over5++;
      if (this.slowRequests.length < 1000) this.slowRequests.push([Math.round(Date.now() - elapsedMs), Math.round(elapsedMs * 10) / 10]);
    }
  }

  /** The figures since the previous take(), and a fresh start. */
  take(): RuntimeFigures {
    const us = (x: number) => Math.round(x / 10) / 100;
    const late = (ns: number) => Math.max(0, Math.round((ns / 1e6 - this.resolutionMs) * 100) / 100);
    const out: RuntimeFigures = {
      seconds: Math.round((performance.now() - this.since) / 100) / 10,
      // the histogram holds the time between the monitor's ticks: what is beyond its interval is the delay
      eventLoopDelayMs: { p50: late(this.loop.percentile(50)), p99: late(this.loop.percentile(99)), max: late(this.loop.max) },
      gc: Object.fromEntries(Object.entries(this.gc).map(([k, g]) => [k, { count: g.count, totalMs: Math.round(g.totalMs * 10) / 10, maxMs: Math.round(g.maxMs * 10) / 10 }])),
      requestMs: {
        count: this.requests.count, p50: us(this.requests.percentile(50)), p99: us(this.requests.percentile(99)), max: us(this.requests.max), over5ms: this.over5,
      },
      stalls: this.stalls,
      slowRequests: this.slowRequests,
    };
    this.stalls = [];
    this.slowRequests = [];
    this.loop.reset();
    this.requests.reset();
    this.over5 = 0;
    this.gc = {};
    this.since = performance.now();
    return out;
  }

  close(): void {
    clearInterval(this.ticker);
    this.loop.disable();
    this.observer.disconnect();
  }
}
