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
  const { r, alpha, a, b } = p;
  // MBG/NBD shifts the beta terms by one purchase (dropout is possible after the first purchase too).
  const k = p.variant === 'mbgnbd' ? 1 : 0;
  const c1 = lgamma(r) - r * Math.log(alpha);
  const c2 = lgamma(a + b) - lgamma(b);
  let ll = 0;
  for (const { x, tx, T } of rows) {
    const A1 = lgamma(r + x) - c1;
    const A2 = c2 + lgamma(b + x + k) - lgamma(a + b + x + k);
    const A3 = -(r + x) * Math.log(alpha + T);
    const A4 = x > 0 || k ? Math.log(a) - Math.log(b + x - 1 + k) - (r + x) * Math.log(alpha + tx) : -Infinity;
    ll += A1 + A2 + logAddExp(A3, A4);
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
export function fitBgNbd(rows: readonly RfmRow[], variant: 'bgnbd' | 'mbgnbd' = 'bgnbd'): BgNbdFit {
  if (rows.length === 0) throw new Error('BG/NBD: no customers to fit');
  const objective = (v: number[]) =>
    v.some((x, i) => x < LOG_BOUNDS[i]![0] || x > LOG_BOUNDS[i]![1])
      ? Infinity
      : -bgnbdLogLikelihood({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!), variant }, rows);
  const meanT = rows.reduce((s, r) => s + r.T, 0) / rows.length;
  const res = nelderMead(objective, [0, Math.log(Math.max(meanT, 1e-3)), 0, 0], { initialStep: 1 });
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
