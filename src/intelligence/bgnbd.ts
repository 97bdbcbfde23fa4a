// BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): purchases follow a Poisson process
// with gamma-distributed rates (r, alpha); after each purchase a customer drops out with a beta-distributed
// probability (a, b). Fitted by maximum likelihood on (x repeat purchases, t_x recency, T age), time in weeks.
import { hyp2f1, lgamma, logAddExp, nelderMead } from './math.ts';

export interface RfmRow {
  /** Repeat purchases (purchase days after the first). */
  x: number;
  /** Time of the last purchase, from the first purchase. */
  tx: number;
  /** Time from the first purchase to the end of calibration. */
  T: number;
}

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
  /**
   * 'mbgnbd' is the modified BG/NBD (Batislam, Denizel and Filiztekin 2007): a customer may also drop out right after
   * the first purchase, so P(alive) < 1 for one-time buyers. Absent means classic BG/NBD.
   */
  variant?: 'bgnbd' | 'mbgnbd';
}

export interface BgNbdFit {
  params: BgNbdParams;
  logLikelihood: number;
  customers: number;
  iterations: number;
  converged: boolean;
}

/** Total log-likelihood of the data under the parameters. */
export function bgnbdLogLikelihood(p: BgNbdParams, rows: readonly RfmRow[]): number {
  return compactLogLikelihood(p, compactRfm(rows));
}

/**
 * The rows grouped by identical (x, t_x, T) with counts, with x, t_x and T as indices into their distinct values: the
 * likelihood's gamma terms depend only on x and its logs only on alpha + a time, so an optimiser evaluating it
 * thousands of times computes those once per distinct value, and per group only one exp and one log.
 */
export interface CompactRfm {
  /** Distinct x values. */
  xs: Float64Array;
  /** Distinct time values (t_x and T together). */
  times: Float64Array;
  /** Per group: index into xs, indices of t_x and T into times, number of customers. */
  xi: Int32Array;
  txi: Int32Array;
  Ti: Int32Array;
  n: Float64Array;
}

export function compactRfm(rows: readonly RfmRow[]): CompactRfm {
  const groups = new Map<string, { x: number; tx: number; T: number; n: number }>();
  for (const { x, tx, T } of rows) {
    const key = `${x}|${tx}|${T}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { x, tx, T, n: 1 });
  }
  // Sorted, so that the sum's order (and so its last bit) does not depend on the input order.
  const list = [...groups.values()].sort((a, b) => a.x - b.x || a.tx - b.tx || a.T - b.T);
  const xs = [...new Set(list.map((g) => g.x))].sort((a, b) => a - b);
  const times = [...new Set(list.flatMap((g) => [g.tx, g.T]))].sort((a, b) => a - b);
  const xIndex = new Map(xs.map((x, i) => [x, i]));
  const tIndex = new Map(times.map((t, i) => [t, i]));
  return {
    xs: Float64Array.from(xs),
    times: Float64Array.from(times),
    xi: Int32Array.from(list.map((g) => xIndex.get(g.x)!)),
    txi: Int32Array.from(list.map((g) => tIndex.get(g.tx)!)),
    Ti: Int32Array.from(list.map((g) => tIndex.get(g.T)!)),
    n: Float64Array.from(list.map((g) => g.n)),
  };
}

export function compactLogLikelihood(p: BgNbdParams, d: CompactRfm): number {
  const { r, alpha, a, b } = p;
  // MBG/NBD shifts the beta terms by one purchase (dropout is possible after the first purchase too).
  const k = p.variant === 'mbgnbd' ? 1 : 0;
  const c1 = lgamma(r) - r * Math.log(alpha);
  const c2 = lgamma(a + b) - lgamma(b);
  const la = Math.log(a);
  const nx = d.xs.length;
  const A12 = new Float64Array(nx);
  const A4c = new Float64Array(nx);
  for (let i = 0; i < nx; i++) {
    const x = d.xs[i]!;
    A12[i] = lgamma(r + x) - c1 + c2 + lgamma(b + x + k) - lgamma(a + b + x + k);
    A4c[i] = x > 0 || k ? la - Math.log(b + x - 1 + k) : -Infinity;
  }
  const logT = new Float64Array(d.times.length);
  for (let i = 0; i < logT.length; i++) logT[i] = Math.log(alpha + d.times[i]!);
  let ll = 0;
  for (let g = 0; g < d.n.length; g++) {
    const i = d.xi[g]!;
    const rx = r + d.xs[i]!;
    const A3 = -rx * logT[d.Ti[g]!]!;
    const c = A4c[i]!;
    let term: number;
    if (c === -Infinity) term = A3;
    else {
      // log(exp(A3) + exp(A4)) = max + log1p(exp(-|A3 - A4|)).
      const A4 = c - rx * logT[d.txi[g]!]!;
      term = A3 > A4 ? A3 + Math.log1p(Math.exp(A4 - A3)) : A4 + Math.log1p(Math.exp(A3 - A4));
    }
    ll += d.n[g]! * (A12[i]! + term);
  }
  return ll;
}

/**
 * Bounds on the log-parameters. On data with little dropout the likelihood keeps rising as a and b grow together
 * (a degenerate beta); capping them at e^5.3 (about 200) changes the likelihood negligibly and keeps the
 * hypergeometric series of the predictions finite. Real fits (CDNOW: a=0.79, b=2.43) sit far inside.
 */
export const LOG_BOUNDS: readonly [number, number][] = [[-9, 9], [-9, 9], [-9, 5.3], [-9, 5.3]];

/** Maximum-likelihood fit by Nelder-Mead on log-parameters (keeps all four positive), within LOG_BOUNDS. */
export function fitBgNbd(rows: readonly RfmRow[], variant: 'bgnbd' | 'mbgnbd' = 'bgnbd', start?: BgNbdParams): BgNbdFit {
  if (rows.length === 0) throw new Error('BG/NBD: no customers to fit');
  const data = compactRfm(rows);
  const objective = (v: number[]) =>
    v.some((x, i) => x < LOG_BOUNDS[i]![0] || x > LOG_BOUNDS[i]![1])
      ? Infinity
      : -compactLogLikelihood({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!), variant }, data);
  const meanT = rows.reduce((s, r) => s + r.T, 0) / rows.length;
  // A warm start (a fit on nearby data, e.g. the next snapshot) needs a smaller first simplex and far fewer steps.
  const x0 = start ? [start.r, start.alpha, start.a, start.b].map((v, i) => Math.min(Math.max(Math.log(v), LOG_BOUNDS[i]![0]), LOG_BOUNDS[i]![1])) : [0, Math.log(Math.max(meanT, 1e-3)), 0, 0];
  // Warm-started fits feed churn features, where 1e-4 in a log-parameter is far below noise: they stop earlier.
  const res = nelderMead(objective, x0, start ? { initialStep: 0.1, spreadTolerance: 1e-4, tolerance: 1e-8 } : { initialStep: 1 });
  const [r, alpha, a, b] = res.x.map(Math.exp) as [number, number, number, number];
  return { params: variant === 'mbgnbd' ? { r, alpha, a, b, variant } : { r, alpha, a, b }, logLikelihood: -res.value, customers: rows.length, iterations: res.iterations, converged: res.converged };
}

/** P(customer still alive | x, t_x, T). 1 for customers without a repeat purchase (the model's known weakness). */
export function probabilityAlive(p: BgNbdParams, { x, tx, T }: RfmRow): number {
  const k = p.variant === 'mbgnbd' ? 1 : 0;
  if (x === 0 && !k) return 1;
  const { r, alpha, a, b } = p;
  const logRatio = Math.log(a) - Math.log(b + x - 1 + k) + (r + x) * Math.log((alpha + T) / (alpha + tx));
  return 1 / (1 + Math.exp(logRatio));
}

/** Expected purchases in the next `t` time units for a customer with history (x, t_x, T). */
export function expectedPurchases(p: BgNbdParams, row: RfmRow, t: number): number {
  const { r, alpha, a, b } = p;
  const { x, tx, T } = row;
  if (t <= 0) return 0;
  const k = p.variant === 'mbgnbd' ? 1 : 0;
  const z = t / (alpha + T + t);
  const c = a + b + x - 1 + k;
  // Euler's transformation: (1-z)^(r+x) 2F1(r+x, b+x+k; c; z) = (1-z)^(a-1) 2F1(c-r-x, a-1; c; z); the right side
  // has small upper parameters and so converges fast and never overflows, even for heavy buyers.
  const tail = Math.pow(1 - z, a - 1) * hyp2f1(c - r - x, a - 1, c, z);
  const numerator = (c / (a - 1)) * (1 - tail);
  const denominator = x > 0 || k ? 1 + (a / (b + x - 1 + k)) * Math.pow((alpha + T) / (alpha + tx), r + x) : 1;
  return numerator / denominator;
}

/**
 * P(no purchase in the next `t` | x, t_x, T): dead, or alive with no Poisson event in t. Dropout happens only at a
 * purchase, so an alive customer with no purchase in the window cannot drop out inside it; the rate's posterior
 * given alive is gamma(r + x, alpha + T). This is BG/NBD's own churn probability for a horizon.
 */
export function probabilityNoPurchase(p: BgNbdParams, row: RfmRow, t: number): number {
  const alive = probabilityAlive(p, row);
  return 1 - alive + alive * Math.pow((p.alpha + row.T) / (p.alpha + row.T + t), p.r + row.x);
}
