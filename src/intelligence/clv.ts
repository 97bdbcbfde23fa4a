// CLV: BG/NBD (or MBG/NBD, by likelihood) for how many purchases, Gamma-Gamma for how much each; predicted over a
// horizon in days.
import { expectedPurchases, fitBgNbd, probabilityAlive, type BgNbdFit, type BgNbdParams, type RfmRow } from './bgnbd.ts';
import type { FeatureRow } from './features.ts';
import { expectedSpend, fitGammaGamma, type GammaGammaFit } from './gamma-gamma.ts';

export interface ClvModel {
  bgnbd: BgNbdFit;
  gammaGamma: GammaGammaFit;
}

export interface ClvScore {
  P_ALIVE: number | null;
  PREDICTED_PURCHASES: number;
  PREDICTED_CLV: number;
}

export function rfmOf(r: FeatureRow): RfmRow {
  return { x: r.FREQUENCY, tx: r.RECENCY_WEEKS, T: r.T_WEEKS };
}

/** Customers the likelihoods are fitted on at most (a stable sample beyond that: the MLE barely moves, the time does). */
export const MAX_FIT_CUSTOMERS = 10_000;

function stableSample<T extends { CUSTOMER360_ID: string }>(rows: readonly T[], max: number): readonly T[] {
  if (rows.length <= max) return rows;
  const h = (id: string) => {
    let x = 2166136261;
    for (let i = 0; i < id.length; i++) x = Math.imul(x ^ id.charCodeAt(i), 16777619);
    return x >>> 0;
  };
  return [...rows].sort((a, b) => h(a.CUSTOMER360_ID) - h(b.CUSTOMER360_ID) || (a.CUSTOMER360_ID < b.CUSTOMER360_ID ? -1 : 1)).slice(0, max);
}

function fitBuyers(rows: readonly FeatureRow[]): readonly FeatureRow[] {
  const buyers = stableSample(rows.filter((r) => r.HAS_PURCHASED), MAX_FIT_CUSTOMERS);
  if (buyers.length < 3) throw new Error(`CLV: ${buyers.length} customer(s) with purchases; at least 3 are needed to fit BG/NBD`);
  return buyers;
}

function fitFrequencyOf(buyers: readonly FeatureRow[], variant?: 'bgnbd' | 'mbgnbd', start?: BgNbdParams): BgNbdFit {
  // BG/NBD and its modified form (dropout possible after the first purchase) have the same number of parameters, so
  // the likelihood chooses: data full of one-time buyers who never return favours MBG/NBD; CDNOW keeps BG/NBD.
  const rfm = buyers.map(rfmOf);
  if (variant) return fitBgNbd(rfm, variant, start);
  const classic = fitBgNbd(rfm, 'bgnbd');
  const modified = fitBgNbd(rfm, 'mbgnbd');
  return modified.logLikelihood > classic.logLikelihood ? modified : classic;
}

/** The frequency model alone (what churn features need; no spend model), on the same purchasers as fitClv. */
export function fitFrequency(rows: readonly FeatureRow[], variant?: 'bgnbd' | 'mbgnbd', start?: BgNbdParams): BgNbdFit {
  return fitFrequencyOf(fitBuyers(rows), variant, start);
}

/**
 * Fits both models on the purchasers of a snapshot. `variant` fixes the frequency model (churn training snapshots
 * reuse the one chosen at scoring time); by default both are fitted and the likelier kept. `start` warm-starts the
 * frequency model's optimiser (same optimum, fewer likelihood evaluations).
 */
export function fitClv(rows: readonly FeatureRow[], variant?: 'bgnbd' | 'mbgnbd', start?: BgNbdParams): ClvModel {
  const buyers = fitBuyers(rows);
  const bgnbd = fitFrequencyOf(buyers, variant, start);
  let gammaGamma: GammaGammaFit;
  try {
    gammaGamma = fitGammaGamma(buyers.map((r) => ({ x: r.FREQUENCY, m: r.MONETARY_REPEAT })));
  } catch {
    // No repeat buyers yet: fall back to a flat spend model centred on the mean order value (documented).
    const aov = buyers.reduce((s, r) => s + r.AVG_ORDER_VALUE, 0) / buyers.length;
    gammaGamma = { params: { p: 1, q: 2, v: aov }, logLikelihood: NaN, customers: 0, converged: false };
  }
  return { bgnbd, gammaGamma };
}

/**
 * Scores one customer. Customers who never bought have no BG/NBD history: P_ALIVE is null and predictions are 0
 * (their value is a conversion question, not a retention one). CLV is undiscounted over the (short) horizon.
 */
export function scoreClv(model: ClvModel, row: FeatureRow, horizonDays: number): ClvScore {
  if (!row.HAS_PURCHASED) return { P_ALIVE: null, PREDICTED_PURCHASES: 0, PREDICTED_CLV: 0 };
  const rfm = rfmOf(row);
  const purchases = expectedPurchases(model.bgnbd.params, rfm, horizonDays / 7);
  // Gamma-Gamma conditions on repeat purchases; a one-time buyer would get the population mean, which with a heavy
  // tail (q near 1) ranks every one-timer above most repeaters. Their single observed order is evidence too, so it
  // enters as one transaction (shrunk to the population mean like any other).
  const spend = row.FREQUENCY > 0
    ? expectedSpend(model.gammaGamma.params, { x: row.FREQUENCY, m: row.MONETARY_REPEAT })
    : expectedSpend(model.gammaGamma.params, { x: 1, m: row.AVG_ORDER_VALUE });
  return { P_ALIVE: probabilityAlive(model.bgnbd.params, rfm), PREDICTED_PURCHASES: purchases, PREDICTED_CLV: purchases * spend };
}
