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

/** Fit on customers with x > 0 and m > 0 (others carry no spend information and are ignored by design). */
export function fitGammaGamma(all: readonly SpendRow[]): GammaGammaFit {
  const rows = all.filter((r) => r.x > 0 && r.m > 0);
  if (rows.length === 0) throw new Error('Gamma-Gamma: no repeat buyers with positive spend to fit');
  // Bounded like BG/NBD's log-parameters, so degenerate data cannot push the optimiser to overflow.
  const objective = (w: number[]) => w.some((x) => Math.abs(x) > 12) ? Infinity : -gammaGammaLogLikelihood({ p: Math.exp(w[0]!), q: Math.exp(w[1]!), v: Math.exp(w[2]!) }, rows);
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
