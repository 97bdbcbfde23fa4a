// Offline evaluation on held-out time: models are built as of `asOf - horizon` from data up to then only, and
// scored against what customers actually did in (asOf - horizon, asOf]. Every model is compared with every baseline
// it has to beat, each figure with a 95% interval from a bootstrap over customers (the same resamples for every
// row, so the intervals of a difference are paired).
import { lit, type Engine } from '../engine/duckdb.ts';
import { expectedPurchases } from './bgnbd.ts';
import type { EaseChoice } from './ease.ts';
import { rfmOf } from './clv.ts';
import type { LearnedClv } from './clv-learned.ts';
import { addDays } from '../runtime/days.ts';
import { expectedSpend } from './gamma-gamma.ts';
import { auc, seededRandom, spearman, topDecileShare } from './math.ts';
import { recommend, scoreCustomers } from './models.ts';
import { buildRelevant, recMetrics, type RecMetrics, type Weights } from './recommend.ts';

/** A metric with its bootstrap 95% interval. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

export interface ComparisonRow {
  name: string;
  /** candidate: a model tuning considered but that is only served if it won on validation (shown for comparison). */
  role: 'model' | 'candidate' | 'baseline';
  description: string;
  metrics: Record<string, Estimate>;
}

/** One task's table: the model(s) and baselines on the same customers, plus the model's lift over the best baseline. */
export interface Comparison {
  task: 'recommendations' | 'clv' | 'churn';
  customers: number;
  /** The metric that decides "best". */
  primary: string;
  rows: ComparisonRow[];
  /** Model minus the best baseline on the primary metric (paired bootstrap interval). */
  lift: { model: string; baseline: string; metric: string; value: Estimate };
}

export interface ReliabilityBin {
  from: number;
  to: number;
  customers: number;
  meanPredicted: number;
  observedRate: number;
}

export interface EvaluationResult {
  asOf: string;
  horizonDays: number;
  /** Models are trained on data up to here; the holdout is (cutoff, asOf]. */
  cutoff: string;
  bootstrap: { samples: number; seed: number };
  comparisons: Comparison[];
  clv: {
    /** bgnbd or mbgnbd, whichever had the higher likelihood. */
    model: string;
    /** What PREDICTED_CLV came from, and why (chosen on a validation snapshot before the cutoff). */
    served: string;
    /** The served candidate's name (validation.candidates has every candidate's figures). */
    candidate: string;
    choice: string;
    validation: LearnedClv['validation'] | null;
    customers: number;
    spearman: number;
    topDecileShare: number;
    baselinePastSpendSpearman: number;
    baselinePastSpendTopDecileShare: number;
    /** Calibration: totals over the evaluated customers. */
    predictedPurchases: number;
    actualPurchases: number;
    predictedSpend: number;
    actualSpend: number;
    /** BG/NBD x Gamma-Gamma's total on the same customers (the baseline whose calibration the served CLV must not lose). */
    baselineSpend: number;
    /** Calibration by decile of the served CLV (highest first): customers, predicted and actual spend and purchase days. */
    deciles: { decile: number; customers: number; predictedSpend: number; actualSpend: number; predictedPurchases: number; actualPurchases: number }[];
  };
  churn: {
    customers: number;
    churnRate: number;
    auc: number;
    baselineRecencyAuc: number;
    pAliveAuc: number;
    brier: number;
    meanPredicted: number;
    /** Expected calibration error over the reliability bins. */
    ece: number;
    /** Whether the rhythm features were chosen, with the calibration-snapshot AUCs that decided it. */
    rhythm?: { used: boolean; aucWith: number; aucWithout: number };
    reliability: ReliabilityBin[];
    model: string;
  };
  recommendations?: {
    k: number;
    weights: Weights;
    tunedOn?: { asOf: string; until: string };
    served?: string;
    validationNdcg?: Record<string, number>;
    repeatDecayDays?: number;
    /** EASE's strength (chosen on the validation split) and the products it modelled. */
    ease?: EaseChoice;
    hybrid: RecMetrics;
    popularity: RecMetrics;
    repeat_purchase: RecMetrics;
  };
}

export interface EvaluateOptions {
  recommendations?: boolean;
  /** Bootstrap resamples (default 200). */
  samples?: number;
  seed?: number;
}

type Metric = (idx: Int32Array) => number;

/** Point value and percentile 95% interval of each metric over the same `samples` resamples of n customers. */
export function bootstrap(n: number, metrics: Record<string, Metric>, samples: number, seed: number): Record<string, Estimate> {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const draws: Record<string, number[]> = Object.fromEntries(Object.keys(metrics).map((k) => [k, []]));
  const rnd = seededRandom(seed);
  const idx = new Int32Array(n);
  for (let b = 0; b < samples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rnd() * n);
    for (const [k, f] of Object.entries(metrics)) {
      const v = f(idx);
      if (Number.isFinite(v)) draws[k]!.push(v);
    }
  }
  const q = (xs: number[], p: number) => {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!;
  };
  return Object.fromEntries(Object.entries(metrics).map(([k, f]) => [k, { value: f(all), lo: q(draws[k]!, 0.025), hi: q(draws[k]!, 0.975) }]));
}

const pick = (xs: readonly number[], idx: Int32Array) => Array.from(idx, (i) => xs[i]!);
const meanOf = (xs: readonly number[]) => (idx: Int32Array) => {
  let s = 0;
  for (const i of idx) s += xs[i]!;
  return idx.length ? s / idx.length : NaN;
};

/** Builds a comparison table: per-row metric functions over customer indices, bootstrapped together. */
function compare(
  task: Comparison['task'], n: number, primary: string, samples: number, seed: number,
  rows: { name: string; role: ComparisonRow['role']; description: string; metrics: Record<string, Metric> }[],
): Comparison {
  const fns: Record<string, Metric> = {};
  for (const r of rows) for (const [m, f] of Object.entries(r.metrics)) fns[`${r.name}\u0000${m}`] = f;
  const model = rows.find((r) => r.role === 'model')!;
  const baselines = rows.filter((r) => r.role === 'baseline');
  const full = Int32Array.from({ length: n }, (_, i) => i);
  const best = baselines.reduce((a, b) => (b.metrics[primary]!(full) > a.metrics[primary]!(full) ? b : a));
  fns['\u0000lift'] = (idx) => model.metrics[primary]!(idx) - best.metrics[primary]!(idx);
  const est = bootstrap(n, fns, samples, seed);
  return {
    task,
    customers: n,
    primary,
    rows: rows.map((r) => ({ name: r.name, role: r.role, description: r.description, metrics: Object.fromEntries(Object.keys(r.metrics).map((m) => [m, est[`${r.name}\u0000${m}`]!])) })),
    lift: { model: model.name, baseline: best.name, metric: primary, value: est['\u0000lift']! },
  };
}

/** Reliability of probabilities: ten equal-width bins of the predicted value, with the observed rate in each. */
export function reliability(predicted: readonly number[], labels: readonly (0 | 1)[], bins = 10): { bins: ReliabilityBin[]; ece: number } {
  const out: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const from = b / bins;
    const to = (b + 1) / bins;
    let n = 0, sp = 0, sy = 0;
    predicted.forEach((p, i) => {
      if (p >= from && (p < to || (b === bins - 1 && p <= to))) {
        n++;
        sp += p;
        sy += labels[i]!;
      }
    });
    if (n === 0) continue;
    out.push({ from, to, customers: n, meanPredicted: sp / n, observedRate: sy / n });
    ece += (n / Math.max(predicted.length, 1)) * Math.abs(sp / n - sy / n);
  }
  return { bins: out, ece };
}

/** Customers in ten groups by predicted CLV (highest first, ties by position), with predicted and actual totals. */
export function clvDeciles(pred: readonly number[], spend: readonly number[], purchases: readonly number[], days: readonly number[]): EvaluationResult['clv']['deciles'] {
  const order = pred.map((_, i) => i).sort((a, b) => pred[b]! - pred[a]! || a - b);
  const out: EvaluationResult['clv']['deciles'] = [];
  for (let d = 0; d < 10; d++) {
    const part = order.slice(Math.round((d * order.length) / 10), Math.round(((d + 1) * order.length) / 10));
    if (part.length === 0) continue;
    const sum = (xs: readonly number[]) => part.reduce((t, i) => t + xs[i]!, 0);
    out.push({ decile: d + 1, customers: part.length, predictedSpend: sum(pred), actualSpend: sum(spend), predictedPurchases: sum(purchases), actualPurchases: sum(days) });
  }
  return out;
}

interface PerUser { id: string; ndcg: number; precision: number; recall: number; hit: number }

/** Per-customer metrics @k of one ranking, for the customers of `<p>users` with holdout purchases (sorted by id). */
async function recPerUser(engine: Engine, p: string, recs: string, k: number): Promise<PerUser[]> {
  const rows = await engine.all<Record<string, string | number>>(`
    WITH u AS (SELECT CUSTOMER360_ID, count(*) AS NREL FROM ${p}relevant WHERE CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}users) GROUP BY 1),
    r AS (SELECT x.CUSTOMER360_ID, x.RANK, CASE WHEN rel.PRODUCT_ID IS NULL THEN 0 ELSE 1 END AS HIT
      FROM ${recs} x LEFT JOIN ${p}relevant rel USING (CUSTOMER360_ID, PRODUCT_ID) WHERE x.RANK <= ${k}),
    a AS (SELECT u.CUSTOMER360_ID, u.NREL, coalesce(sum(r.HIT), 0) AS HITS, coalesce(sum(r.HIT / log2(r.RANK + 1)), 0) AS DCG
      FROM u LEFT JOIN r USING (CUSTOMER360_ID) GROUP BY 1, 2)
    SELECT CUSTOMER360_ID AS id, DCG / list_sum(list_transform(range(1, least(NREL, ${k}) + 1), i -> 1 / log2(i + 1))) AS ndcg,
      HITS / ${k} AS precision, HITS / NREL AS recall, CASE WHEN HITS > 0 THEN 1 ELSE 0 END AS hit
    FROM a ORDER BY 1`);
  return rows.map((r) => ({ id: String(r.id), ndcg: Number(r.ndcg), precision: Number(r.precision), recall: Number(r.recall), hit: Number(r.hit) }));
}

export async function evaluate(engine: Engine, asOf: string, horizonDays: number, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const samples = options.samples ?? 200;
  const seed = options.seed ?? 42;
  const cutoff = addDays(asOf, -horizonDays);
  const s = await scoreCustomers(engine, cutoff, horizonDays);
  const actual = new Map(
    (await engine.all<{ id: string; spend: number; days: string }>(
      `SELECT CUSTOMER360_ID AS id, sum(AMOUNT) AS spend, count(DISTINCT TX_DATE) AS days FROM base_tx
       WHERE TX_DATE > DATE ${lit(cutoff)} AND TX_DATE <= DATE ${lit(asOf)} GROUP BY 1`,
    )).map((r) => [r.id, { spend: Number(r.spend), days: Number(r.days) }]),
  );
  const byId = new Map(s.scores.map((x) => [x.CUSTOMER360_ID, x]));
  // Customers who bought by the cutoff, in id order (so resamples do not depend on load order).
  const buyers = s.snapshot.rows.filter((r) => r.HAS_PURCHASED).sort((a, b) => (a.CUSTOMER360_ID < b.CUSTOMER360_ID ? -1 : 1));
  const n = buyers.length;
  const spend = buyers.map((r) => actual.get(r.CUSTOMER360_ID)?.spend ?? 0);
  const clvPred = buyers.map((r) => byId.get(r.CUSTOMER360_ID)!.PREDICTED_CLV);
  const weeks = horizonDays / 7;
  const bgPurchases = buyers.map((r) => expectedPurchases(s.clv.bgnbd.params, rfmOf(r), weeks));
  const gg = s.clv.gammaGamma.params;
  const bgGg = buyers.map((r, i) => bgPurchases[i]! * (r.FREQUENCY > 0 ? expectedSpend(gg, { x: r.FREQUENCY, m: r.MONETARY_REPEAT }) : expectedSpend(gg, { x: 1, m: r.AVG_ORDER_VALUE })));
  const past = buyers.map((r) => r.REVENUE);
  const labels = buyers.map((r) => (actual.has(r.CUSTOMER360_ID) ? 0 : 1) as 0 | 1);
  const risk = buyers.map((r) => byId.get(r.CUSTOMER360_ID)!.CHURN_RISK);
  const recency = buyers.map((r) => r.DAYS_SINCE_LAST_PURCHASE ?? 0);
  const notAlive = buyers.map((r) => 1 - (byId.get(r.CUSTOMER360_ID)!.P_ALIVE ?? 1));

  const clvMetrics = (score: readonly number[]) => ({
    spearman: (idx: Int32Array) => spearman(pick(score, idx), pick(spend, idx)),
    topDecileShare: (idx: Int32Array) => topDecileShare(pick(score, idx), pick(spend, idx)),
  });
  const variant = s.clv.bgnbd.params.variant ?? 'bgnbd';
  const comparisons: Comparison[] = [
    compare('clv', n, 'spearman', samples, seed, [
      { name: 'clv', role: 'model', description: 'production CLV model', metrics: clvMetrics(clvPred) },
      { name: 'bgnbd', role: 'baseline', description: `${variant} expected purchases alone`, metrics: clvMetrics(bgPurchases) },
      { name: 'bgnbd_gamma_gamma', role: 'baseline', description: `${variant} x Gamma-Gamma spend`, metrics: clvMetrics(bgGg) },
      { name: 'past_spend', role: 'baseline', description: 'historical spend', metrics: clvMetrics(past) },
    ]),
    compare('churn', n, 'auc', samples, seed + 1, [
      { name: 'churn', role: 'model', description: `production churn model (${s.churn.kind})`, metrics: { auc: (idx) => auc(pick(risk, idx), pick(labels, idx) as (0 | 1)[]) } },
      { name: 'recency', role: 'baseline', description: 'days since last purchase', metrics: { auc: (idx) => auc(pick(recency, idx), pick(labels, idx) as (0 | 1)[]) } },
      { name: 'p_alive', role: 'baseline', description: `1 - P(alive) (${variant})`, metrics: { auc: (idx) => auc(pick(notAlive, idx), pick(labels, idx) as (0 | 1)[]) } },
    ]),
  ];
  const rel = reliability(risk, labels);
  const result: EvaluationResult = {
    asOf,
    horizonDays,
    cutoff,
    bootstrap: { samples, seed },
    comparisons,
    clv: {
      model: variant,
      served: s.learnedClv.kind,
      candidate: s.learnedClv.candidate,
      choice: s.learnedClv.reason,
      validation: s.learnedClv.validation ?? null,
      customers: n,
      spearman: spearman(clvPred, spend),
      topDecileShare: topDecileShare(clvPred, spend),
      baselinePastSpendSpearman: spearman(past, spend),
      baselinePastSpendTopDecileShare: topDecileShare(past, spend),
      predictedPurchases: buyers.reduce((t, r) => t + byId.get(r.CUSTOMER360_ID)!.PREDICTED_PURCHASES, 0),
      actualPurchases: buyers.reduce((t, r) => t + (actual.get(r.CUSTOMER360_ID)?.days ?? 0), 0),
      predictedSpend: clvPred.reduce((t, x) => t + x, 0),
      actualSpend: spend.reduce((t, x) => t + x, 0),
      baselineSpend: bgGg.reduce((t, x) => t + x, 0),
      deciles: clvDeciles(clvPred, spend, buyers.map((r) => byId.get(r.CUSTOMER360_ID)!.PREDICTED_PURCHASES), buyers.map((r) => actual.get(r.CUSTOMER360_ID)?.days ?? 0)),
    },
    churn: {
      customers: n,
      churnRate: labels.filter((l) => l === 1).length / Math.max(n, 1),
      auc: auc(risk, labels),
      baselineRecencyAuc: auc(recency, labels),
      pAliveAuc: auc(notAlive, labels),
      brier: risk.reduce((t, p, i) => t + (p - labels[i]!) ** 2, 0) / Math.max(n, 1),
      meanPredicted: risk.reduce((t, p) => t + p, 0) / Math.max(n, 1),
      ece: rel.ece,
      reliability: rel.bins,
      ...(s.churn.kind === 'logistic_platt' ? { rhythm: { used: !!s.churn.rhythm, aucWith: s.churn.metrics.calibrationAucWithRhythm!, aucWithout: s.churn.metrics.calibrationAucWithoutRhythm! } } : {}),
      model: s.churn.kind,
    },
  };
  const products = Number(await engine.scalar(`SELECT count(DISTINCT PRODUCT_ID) FROM base_lines`));
  if ((options.recommendations ?? true) && products > 1) {
    const start = await engine.scalar<string>(`SELECT CAST(min(TX_DATE) AS VARCHAR) FROM base_tx`);
    const k = 10;
    const r = await recommend(engine, s.snapshot, horizonDays, k, start, undefined, undefined, { ease: true });
    await buildRelevant(engine, r.prefix, cutoff, asOf);
    // Global best sellers (recent distinct buyers), the same list for everyone.
    const globalPopularity = `${r.prefix}recs_global_popularity`;
    await engine.run(`CREATE OR REPLACE TABLE ${globalPopularity} AS
      SELECT u.CUSTOMER360_ID, c.PRODUCT_ID, c.POP_RANK::INTEGER AS RANK FROM ${r.prefix}users u CROSS JOIN ${r.prefix}catalog c WHERE c.POP_RANK <= ${k}`);
    const tables: Record<string, string> = { ...r.tables, global_popularity: globalPopularity };
    const ease = r.tuning.ease;
    const algos: [string, ComparisonRow['role'], string][] = [
      ['hybrid', 'model', r.tuning.served && r.tuning.served !== 'blend' ? `production: ${r.tuning.served} alone (the blend did not beat it on validation)` : `production blend ${JSON.stringify(r.tuning.weights)}`],
      ...(tables.ease && ease ? [['ease', 'candidate', `EASE alone (lambda ${ease.lambda} chosen on validation, ${ease.items} most popular products)`] as [string, ComparisonRow['role'], string]] : []),
      ['repeat_purchase', 'baseline', 'personal repeat purchase (most often bought, then most recent)'],
      ['popularity', 'baseline', "popularity within the customer's categories"],
      ['global_popularity', 'baseline', 'best sellers (recent distinct buyers), the same for everyone'],
    ];
    const per = new Map<string, PerUser[]>();
    for (const [name] of algos) per.set(name, await recPerUser(engine, r.prefix, tables[name]!, k));
    const users = per.get('hybrid')!.length;
    const col = (name: string, m: keyof Omit<PerUser, 'id'>) => per.get(name)!.map((u) => u[m]);
    comparisons.unshift(compare('recommendations', users, 'ndcg', samples, seed + 2, algos.map(([name, role, description]) => ({
      name, role, description,
      metrics: { ndcg: meanOf(col(name, 'ndcg')), precision: meanOf(col(name, 'precision')), recall: meanOf(col(name, 'recall')), hitRate: meanOf(col(name, 'hit')) },
    }))));
    result.recommendations = {
      k,
      weights: r.tuning.weights,
      tunedOn: r.tuning.split,
      ...(r.tuning.served ? { served: r.tuning.served } : {}),
      ...(r.tuning.repeatDecayDays ? { repeatDecayDays: r.tuning.repeatDecayDays } : {}),
      ...(r.tuning.validationNdcg ? { validationNdcg: r.tuning.validationNdcg } : {}),
      ...(ease ? { ease } : {}),
      hybrid: await recMetrics(engine, r.prefix, r.tables.hybrid, k),
      popularity: await recMetrics(engine, r.prefix, r.tables.popularity, k),
      repeat_purchase: await recMetrics(engine, r.prefix, r.tables.repeat_purchase, k),
    };
  }
  return result;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const ci = (e: Estimate) => `${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;
const signed = (e: Estimate) => `${e.value >= 0 ? '+' : ''}${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;

/** The evaluation as Markdown tables (what `c360 evaluate` prints and writes as its report). */
export function formatEvaluation(e: EvaluationResult, title = 'c360 evaluate'): string[] {
  const lines = [
    `# ${title}`,
    '',
    `Trained on data up to ${e.cutoff}; holdout (${e.cutoff}, ${e.asOf}] = ${e.horizonDays} days. ` +
      `Figures are point values with 95% intervals from ${e.bootstrap.samples} bootstrap resamples of customers (seed ${e.bootstrap.seed}).`,
  ];
  const titles = { recommendations: 'Recommendations', clv: 'CLV (customers who bought by the cutoff; truth = holdout spend)', churn: 'Churn (truth = no purchase in the holdout)' };
  for (const c of e.comparisons) {
    const metrics = Object.keys(c.rows[0]!.metrics);
    const head = c.task === 'recommendations' ? `${titles[c.task]} @${e.recommendations?.k ?? 10} (${c.customers} customers with holdout purchases)` : `${titles[c.task]}, ${c.customers} customers`;
    lines.push('', `## ${head}`, '', `| | ${metrics.join(' | ')} | what |`, `| --- | ${metrics.map(() => '---').join(' | ')} | --- |`);
    for (const r of c.rows) lines.push(`| ${r.role === 'model' ? `**${r.name}**` : r.name} | ${metrics.map((m) => ci(r.metrics[m]!)).join(' | ')} | ${r.role}: ${r.description} |`);
    lines.push('', `${c.lift.model} minus the best baseline (${c.lift.baseline}) on ${c.lift.metric}: ${signed(c.lift.value)}`);
  }
  const clv = e.clv;
  const v = clv.validation;
  const served = clv.served === 'regression' ? `the learned regression (${clv.candidate})` : clv.served === 'bgnbd_monetary' ? (clv.candidate === 'bgnbd_x_spend^0' ? `${clv.model} expected purchases alone (a baseline itself)` : `${clv.model} x Gamma-Gamma spend per purchase shrunk (${clv.candidate})`) : clv.served === 'past_spend' ? 'past spend (a baseline itself)' : `${clv.model} x Gamma-Gamma (the baseline itself)`;
  const se = v?.standardErrors;
  lines.push('', `CLV served: ${served}. Why: ${clv.choice}${v ? `; validation snapshot ${v.snapshot}, ${v.customers} customers (Spearman / top-decile share${se ? ' / standard error of the Spearman gap to the best' : ''}):` : ''}`);
  if (v) for (const [name, m] of Object.entries(v.candidates)) lines.push(`- ${name === clv.candidate ? `**${name}**` : name}: ${f(m.spearman)} / ${f(m.topDecileShare)}${se ? ` / ${name === v.best ? 'best' : f(se[name]!)}` : ''}${v.ineligible?.includes(name) ? ' (not above the strongest baselines on both)' : ''}`);
  lines.push('', `CLV calibration: purchase days predicted (${clv.model}) ${clv.predictedPurchases.toFixed(1)} vs actual ${clv.actualPurchases}; ` +
    `spend predicted ${clv.predictedSpend.toFixed(2)} vs actual ${clv.actualSpend.toFixed(2)} (${clv.model} x Gamma-Gamma: ${clv.baselineSpend.toFixed(2)})`);
  if (clv.deciles.length) {
    lines.push('', '| CLV decile | customers | predicted spend | actual spend | predicted purchase days | actual purchase days |', '| --- | --- | --- | --- | --- | --- |',
      ...clv.deciles.map((d) => `| ${d.decile} | ${d.customers} | ${d.predictedSpend.toFixed(0)} | ${d.actualSpend.toFixed(0)} | ${d.predictedPurchases.toFixed(1)} | ${d.actualPurchases} |`));
  }
  const ch = e.churn;
  if (ch.rhythm) {
    lines.push('', `Churn rhythm features (gap regularity, overdue-ness, trend): ${ch.rhythm.used ? 'used' : 'not used'} ` +
      `(AUC on the calibration snapshot before the cutoff: with ${f(ch.rhythm.aucWith)}, without ${f(ch.rhythm.aucWithout)})`);
  }
  lines.push('', `Churn calibration (${ch.model}): mean predicted ${f(ch.meanPredicted)} vs churn rate ${f(ch.churnRate)}; Brier ${f(ch.brier)}; ECE ${f(ch.ece)}`,
    '', '| predicted | customers | mean predicted | observed |', '| --- | --- | --- | --- |',
    ...ch.reliability.map((b) => `| ${b.from.toFixed(1)}-${b.to.toFixed(1)} | ${b.customers} | ${f(b.meanPredicted)} | ${f(b.observedRate)} |`));
  if (e.recommendations) {
    const r = e.recommendations;
    lines.push('', `Recommendations served: ${!r.served || r.served === 'blend' ? `the blend ${JSON.stringify(r.weights)}` : `${r.served} alone (the blend did not beat it)`}` +
      (r.repeatDecayDays ? `, repeat signal decay ${r.repeatDecayDays} days` : '') +
      (r.tunedOn ? `, chosen on the validation split (${r.tunedOn.asOf}, ${r.tunedOn.until}]` : ' (prior weights: no earlier split to fit on)') +
      (r.validationNdcg ? `; validation NDCG@${r.k}: ${Object.entries(r.validationNdcg).map(([k, v]) => `${k} ${f(v)}`).join(', ')}` : ''));
    if (r.ease) {
      lines.push('', `EASE (closed-form item-item, Steck 2019) on the ${r.ease.items} most popular products (at most ${r.ease.maxItems}): lambda ${r.ease.lambda}, ` +
        `chosen on the validation split by its own NDCG@${r.k} (${Object.entries(r.ease.ndcgByLambda).map(([l, v]) => `lambda ${l}: ${f(v)}`).join(', ')})` +
        (r.ease.blend
          ? `; best blend with EASE ${f(r.ease.blend.withEase)} vs without ${f(r.ease.blend.withoutEase)} (standard error of the gain ${f(r.ease.blend.standardError)}): ` +
            (r.ease.blend.used ? 'EASE kept in the blend' : 'within one standard error, EASE left out')
          : '; the best blend (coarse grid, step 0.2) gave EASE no weight'));
    }
  }
  return lines;
}
