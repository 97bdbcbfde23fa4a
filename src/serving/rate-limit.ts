// Requests per caller: a token bucket per principal (rate per second, burst). A refused request is told how long to
// wait (429 with Retry-After), which clients such as the Segment SDKs and most HTTP libraries honour.
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perSecond: number,
    readonly burst: number = Math.max(1, Math.ceil(perSecond)),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when the request may go ahead, else the seconds until it could. */
  take(id: string): number {
    if (this.perSecond <= 0) return 0;
    const t = this.now();
    let b = this.buckets.get(id);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(id, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.perSecond;
  }
}
