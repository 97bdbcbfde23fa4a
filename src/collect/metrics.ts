// Request metrics of the collector: counters by route and status, calls by type, records by table, and a latency
// histogram (request received -> answered). Exposed at GET /metrics in the Prometheus text format and logged as one
// JSON line per interval (Container Apps sends stdout to Log Analytics).

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly requests = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly records = new Map<string, number>();
  private readonly buckets = new Array<number>(BUCKETS.length + 1).fill(0);
  private latencySum = 0;
  private latencyCount = 0;
  readonly started = Date.now();

  private static inc(m: Map<string, number>, k: string, n = 1) {
    m.set(k, (m.get(k) ?? 0) + n);
  }

  request(route: string, status: number, seconds: number) {
    Metrics.inc(this.requests, `${route} ${status}`);
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  call(type: string, n = 1) {
    Metrics.inc(this.calls, type, n);
  }

  record(table: string, n = 1) {
    Metrics.inc(this.records, table, n);
  }

  /** Latency quantile estimated from the buckets (upper bound of the bucket holding it), in seconds. */
  quantile(q: number): number | null {
    if (this.latencyCount === 0) return null;
    const target = q * this.latencyCount;
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= target) return BUCKETS[i] ?? Infinity;
    }
    return null;
  }

  /** A summary for the periodic JSON log line. */
  summary(gauges: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      requests: Object.fromEntries(this.requests),
      calls: Object.fromEntries(this.calls),
      records: Object.fromEntries(this.records),
      latencyP50Seconds: this.quantile(0.5),
      latencyP99Seconds: this.quantile(0.99),
      ...gauges,
    };
  }

  /** Prometheus text exposition. */
  prometheus(gauges: Record<string, number> = {}): string {
    const lines: string[] = [];
    const label = (v: string) => v.replace(/["\\\n]/g, '_');
    lines.push('# TYPE c360_collect_requests_total counter');
    for (const [k, n] of this.requests) {
      const [route, status] = k.split(' ');
      lines.push(`c360_collect_requests_total{route="${label(route!)}",status="${status}"} ${n}`);
    }
    lines.push('# TYPE c360_collect_calls_total counter');
    for (const [k, n] of this.calls) lines.push(`c360_collect_calls_total{type="${label(k)}"} ${n}`);
    lines.push('# TYPE c360_collect_records_total counter');
    for (const [k, n] of this.records) lines.push(`c360_collect_records_total{table="${label(k)}"} ${n}`);
    lines.push('# TYPE c360_collect_request_seconds histogram');
    let cum = 0;
    BUCKETS.forEach((b, i) => {
      cum += this.buckets[i]!;
      lines.push(`c360_collect_request_seconds_bucket{le="${b}"} ${cum}`);
    });
    lines.push(`c360_collect_request_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    lines.push(`c360_collect_request_seconds_sum ${this.latencySum}`);
    lines.push(`c360_collect_request_seconds_count ${this.latencyCount}`);
    for (const [k, v] of Object.entries(gauges)) lines.push(`# TYPE ${k} gauge`, `${k} ${v}`);
    return lines.join('\n') + '\n';
  }
}
