// Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV"): a customer's transaction values are gamma with
// shape p and a gamma(q, v)-distributed scale; fitted on repeat buyers' mean repeat-transaction value.
import { lgamma, nelderMead } from './math.ts';

export interface SpendRow {
  /** Repeat transactions (> 0 to enter the fit). */
  x: number;
  /** Mean value of the repeat transactions. */
  m: number;
}

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  customers: number;
  converged: boolean;
}

export function gammaGammaLogLikelihood({ p, q, v }: GammaGammaParams, rows: readonly SpendRow[]): number {
  const c = q * Math.log(v) - lgamma(q);
  let ll = 0;
  for (const { x, m } of rows) {
    const px = p * x;
    ll += lgamma(px + q) - lgamma(px) + c + (px - 1) * Math.log(m) + px * Math.log(x) - (px + q) * Math.log(x * m + v);
  }
  return ll;
}

/** Rows grouped by x (the lgamma terms depend on x only), logs of the data precomputed: what the optimiser evaluates. */
interface CompactSpend {
  xs: number[];
  /** Per x: sum over its rows of log m, count, and the rows' x m. */
  sumLogM: number[];
  count: number[];
  xm: Float64Array[];
}

function compactSpend(rows: readonly SpendRow[]): CompactSpend {
  const byX = new Map<number, number[]>();
  for (const { x, m } of rows) (byX.get(x) ?? byX.set(x, []).get(x)!).push(m);
  const xs = [...byX.keys()].sort((a, b) => a - b);
  return {
    xs,
    sumLogM: xs.map((x) => byX.get(x)!.reduce((s, m) => s + Math.log(m), 0)),
    count: xs.map((x) => byX.get(x)!.length),
    xm: xs.map((x) => Float64Array.from(byX.get(x)!.sort((a, b) => a - b), (m) => x * m)),
  };
}

function compactSpendLogLikelihood({ p, q, v }: GammaGammaParams, d: CompactSpend): number {
  const c = q * Math.log(v) - lgamma(q);
  let ll = 0;
  for (let i = 0; i < d.xs.length; i++) {
    const x = d.xs[i]!;
    const px = p * x;
    const n = d.count[i]!;
    ll += n * (lgamma(px + q) - lgamma(px) + c + px * Math.log(x)) + (px - 1) * d.sumLogM[i]!;
    let s = 0;
    for (const xm of d.xm[i]!) s += Math.log(xm + v);
    ll -= (px + q) * s;
  }
  return ll;
}

/** Fit on customers with x > 0 and m > 0 (others carry no spend information and are ignored by design). */
export function fitGammaGamma(all: readonly SpendRow[]): GammaGammaFit {
  const rows = all.filter((r) => r.x > 0 && r.m > 0);
  if (rows.length === 0) throw new Error('Gamma-Gamma: no repeat buyers with positive spend to fit');
  const data = compactSpend(rows);
  // Bounded like BG/NBD's log-parameters, so degenerate data cannot push the optimiser to overflow.
  const objective = (w: number[]) => w.some((x) => Math.abs(x) > 12) ? Infinity : -compactSpendLogLikelihood({ p: Math.exp(w[0]!), q: Math.exp(w[1]!), v: Math.exp(w[2]!) }, data);
  const meanM = rows.reduce((s, r) => s + r.m, 0) / rows.length;
  const res = nelderMead(objective, [0, 0, Math.log(meanM)], { initialStep: 1 });
  const [p, q, v] = res.x.map(Math.exp) as [number, number, number];
  return { params: { p, q, v }, logLikelihood: -res.value, customers: rows.length, converged: res.converged };
}

/** E[mean transaction value | x, m]; the population mean p v / (q - 1) when x = 0. */
export function expectedSpend({ p, q, v }: GammaGammaParams, { x, m }: SpendRow): number {
  if (x <= 0 || !(m > 0)) return q > 1 ? (p * v) / (q - 1) : m;
  return (p * (v + x * m)) / (p * x + q - 1);
}
