// Where the learned CLV's validation comes from. By default it trains on the churn model's labelled snapshots (same
// label horizon as the scoring one, no extra scan). When their newest snapshot cannot stand for the scoring date (its
// purchasers less than half as old as the scored ones: a young cohort, as on CDNOW, where every label window of the
// scoring horizon that ends by the scoring date starts while the cohort is still forming), the label horizon is
// shortened to the longest one (in 14-day steps) whose validation snapshot's purchasers are old enough, and snapshots
// with that horizon are built for the CLV alone; the served candidate then ranks customers and divides BG/NBD x
// Gamma-Gamma's total over the full horizon.
import { lit, type Engine } from '../engine/duckdb.ts';
import type { BgNbdParams } from './bgnbd.ts';
import { labelledSnapshot, trainingDates, type LabelledSnapshot } from './churn.ts';
import { trainLearnedClv, type LearnedClv } from './clv-learned.ts';

/** Shortest label horizon tried (days): shorter windows say too little about spend over the scoring horizon. */
export const MIN_CLV_LABEL_DAYS = 28;

export interface ClvTrainingOptions {
  firstDate: string;
  variant?: 'bgnbd' | 'mbgnbd';
  start?: BgNbdParams;
  /** Median weeks since the first purchase of the scored purchasers. */
  scoringAgeWeeks?: number;
}

/** Median purchaser age (weeks since the first purchase) as of each date, purchases up to `asOf` only. */
async function medianAges(engine: Engine, asOf: string, dates: readonly string[]): Promise<Map<string, number>> {
  if (dates.length === 0) return new Map();
  const rows = await engine.all<{ v: string; age: number }>(`
    WITH f AS (SELECT min(TX_DATE) AS F FROM base_tx WHERE TX_DATE <= DATE ${lit(asOf)} GROUP BY CUSTOMER360_ID),
    v AS (SELECT unnest([${dates.map((d) => `DATE ${lit(d)}`).join(', ')}]) AS V)
    SELECT CAST(V AS VARCHAR) AS v, median(date_diff('day', F, V)) / 7.0 AS age FROM v JOIN f ON F <= V GROUP BY V`);
  return new Map(rows.map((r) => [r.v, Number(r.age)]));
}

/**
 * The longest label horizon below `horizonDays` (14-day steps, at least MIN_CLV_LABEL_DAYS) with two or more training
 * dates whose newest (the validation snapshot) has purchasers at least half as old as the scored ones; undefined if none.
 */
export async function shorterLabelHorizon(engine: Engine, asOf: string, horizonDays: number, o: ClvTrainingOptions): Promise<number | undefined> {
  if (o.scoringAgeWeeks === undefined) return undefined;
  const options: { days: number; dates: string[] }[] = [];
  for (let days = horizonDays - 14; days >= MIN_CLV_LABEL_DAYS; days -= 14) {
    const dates = trainingDates(asOf, days, { firstDate: o.firstDate });
    if (dates.length >= 2) options.push({ days, dates });
  }
  const ages = await medianAges(engine, asOf, options.map((x) => x.dates[0]!));
  return options.find((x) => (ages.get(x.dates[0]!) ?? 0) >= o.scoringAgeWeeks! / 2)?.days;
}

/**
 * Trains the learned CLV on the churn model's snapshots, or on shorter-horizon snapshots when those cannot validate
 * for the scoring date (see the file comment). The choice and the horizon are in the result's reason and
 * labelHorizonDays.
 */
export async function trainClv(engine: Engine, asOf: string, horizonDays: number, churnSnapshots: readonly LabelledSnapshot[], o: ClvTrainingOptions): Promise<LearnedClv> {
  const first = trainLearnedClv(churnSnapshots, o.scoringAgeWeeks);
  if (!first.ageGuard) return first;
  const days = await shorterLabelHorizon(engine, asOf, horizonDays, o);
  if (days === undefined) return first;
  const snapshots: LabelledSnapshot[] = [];
  for (const s of trainingDates(asOf, days, { firstDate: o.firstDate })) await labelledSnapshot(engine, s, days, o.variant, o.start, snapshots);
  const second = trainLearnedClv(snapshots, o.scoringAgeWeeks);
  // The total over the full horizon comes from BG/NBD x Gamma-Gamma (its dropout process extends the horizon; a
  // linear extension of the shorter window's spend would not); the candidate ranks and divides it.
  return { ...second, ...(second.kind === 'bgnbd_gamma_gamma' ? {} : { total: 'bgnbd_gamma_gamma' as const }), reason: `${second.reason} (label horizon shortened to ${days} days: ${first.reason})` };
}
