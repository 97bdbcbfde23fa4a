// Ranking on top of the signals: the hybrid blend, the two baselines (popularity in the customer's categories and
// repeat purchase, issue 5), top-N metrics, and weight tuning on an earlier time split.
import { lit, type Engine } from '../engine/duckdb.ts';
import { addDays } from '../runtime/days.ts';
import { offerTop, seededRandom } from './math.ts';
import { addEaseSignal, chooseEase, type EaseChoice } from './ease.ts';
import { BASE_SIGNAL_INPUTS, buildCandidates, DEFAULT_SIGNAL_OPTIONS, SIGNALS, type Signal, type SignalOptions } from './recommend-signals.ts';

/** The blend's weights: the four signals, plus EASE (ease.ts) when tuning fitted it. */
export type Weights = Record<Signal, number> & { ease?: number };
export type Algorithm = 'hybrid' | 'popularity' | 'repeat_purchase' | 'ease';
/** What the blend can weigh: the signals of recommend-signals.ts and EASE. */
export type BlendInput = Signal | 'ease';

export interface RecMetrics {
  users: number;
  precision: number;
  recall: number;
  ndcg: number;
  hitRate: number;
}

/** Prior weights, used when there is no earlier split to tune on. */
export const DEFAULT_WEIGHTS: Weights = { repeat: 0.4, cf: 0.3, content: 0.2, popularity: 0.1 };

/** Whether a blend weighs EASE (then `<p>cand` must carry S_EASE: addEaseSignal). */
export function usesEase(w: Weights): boolean {
  return (w.ease ?? 0) > 0;
}

function scoreSql(algo: Algorithm, w: Weights): { score: string; order: string; reason: string; needsCf?: string; needsContent?: string } {
  const repeatReason = `'REPEAT_PURCHASE: bought ' || N || CASE WHEN N = 1 THEN ' time' ELSE ' times' END || ', last on ' || CAST(LAST_DATE AS VARCHAR)`;
  const popularReason = `'POPULAR: a best seller' || coalesce(' in ' || lower(CATEGORY), '')`;
  if (algo === 'repeat_purchase') {
    return {
      score: `N + 0.001 * POP_NORM`,
      order: `N DESC, LAST_DATE DESC NULLS LAST, POP DESC, PK`,
      reason: `CASE WHEN N > 0 THEN ${repeatReason} ELSE ${popularReason} END`,
    };
  }
  const easeReason = `'ALSO_BOUGHT: bought by customers who buy ' || coalesce(VIA_EASE_NAME, VIA_EASE_ID)`;
  if (algo === 'ease') {
    return {
      score: `S_EASE + 1e-6 * POP_NORM`,
      order: `S_EASE + 1e-6 * POP_NORM DESC, PK`,
      reason: `CASE WHEN S_EASE > 0 AND VIA_EASE_ID IS NOT NULL THEN ${easeReason} ELSE ${popularReason} END`,
    };
  }
  if (algo === 'popularity') {
    return {
      score: `CATPOP + 0.001 * POP_NORM`,
      order: `CATPOP + 0.001 * POP_NORM DESC, PK`,
      reason: `CASE WHEN CATPOP > 0 THEN 'POPULAR_IN_CATEGORY: popular in ' || lower(CATEGORY) || ', a category you buy' ELSE ${popularReason} END`,
    };
  }
  const parts: Record<string, string> = { repeat: `${w.repeat} * S_REPEAT`, cf: `${w.cf} * S_CF`, content: `${w.content} * S_CONTENT`, popularity: `${w.popularity} * S_POPULARITY` };
  // EASE's column exists only when it was fitted (usesEase).
  if (usesEase(w)) parts.ease = `${w.ease} * S_EASE`;
  const score = `round(${Object.values(parts).join(' + ')} + 1e-6 * POP_NORM, 10)`;
  // The reason names the signal that contributed most, with what drove it.
  // A signal explains a recommendation only if it contributed (> 0) and its explanation exists; else popularity does.
  const top = `greatest(${Object.values(parts).join(', ')})`;
  const reason = `CASE
      WHEN ${parts.repeat} > 0 AND ${parts.repeat} >= ${top} AND N > 0 THEN ${repeatReason}
      WHEN ${parts.cf} > 0 AND ${parts.cf} >= ${top} AND VIA_CF IS NOT NULL THEN 'ALSO_BOUGHT: often bought or viewed with ' || coalesce(VIA_NAME, VIA_CF)
      WHEN ${parts.content} > 0 AND ${parts.content} >= ${top} AND VIA_CONTENT IS NOT NULL THEN 'MATCHES_INTEREST: your interest in ' || lower(replace(VIA_CONTENT, ':', ' '))${parts.ease ? `
      WHEN ${parts.ease} > 0 AND ${parts.ease} >= ${top} AND VIA_EASE_ID IS NOT NULL THEN ${easeReason}` : ''}
      ELSE ${popularReason} END`;
  // Rows whose reason can name a CF source or a content interest: only those need the look-up.
  const needsCf = `${parts.cf} > 0 AND ${parts.cf} >= ${top}`;
  const needsContent = `${parts.content} > 0 AND ${parts.content} >= ${top}`;
  return { score, order: `${score} DESC, PK`, reason, needsCf, needsContent };
}

/**
 * Ranks candidates of `<p>cand` into `<p>recs_<algo>` (CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, REASON). Without
 * `explain` (a validation ranking nobody reads) REASON is null and the look-ups behind it are skipped.
 */
export async function rank(engine: Engine, p: string, algo: Algorithm, w: Weights, topN: number, explain = true): Promise<string> {
  const table = `${p}recs_${algo}`;
  const s = scoreSql(algo, w);
  // Rank first, then explain only the top N: what drove a CF or content score is looked up for those rows alone.
  const lookups = algo === 'hybrid' && explain
    ? `,
    via_cf AS (
      SELECT r.UK, r.PK, s.I AS VIA_PK FROM r JOIN ${p}src s USING (UK) JOIN ${p}item_sim m ON m.I = s.I AND m.J = r.PK
      WHERE ${s.needsCf}
      QUALIFY row_number() OVER (PARTITION BY r.UK, r.PK ORDER BY round(s.W * m.SIM, 10) DESC, s.I) = 1),
    via_ct AS (
      SELECT r.UK, r.PK, t.KIND || ':' || t.VALUE AS VIA_CONTENT
      FROM r JOIN ${p}top t USING (UK) JOIN ${p}catalog c ON c.PK = r.PK
      WHERE ((t.KIND = 'CATEGORY' AND c.CATEGORY = t.VALUE) OR (t.KIND = 'BRAND' AND c.BRAND = t.VALUE) OR (t.KIND = 'PRODUCT' AND t.VALUE = r.PRODUCT_ID))
        AND ${s.needsContent}
      QUALIFY row_number() OVER (PARTITION BY r.UK, r.PK ORDER BY round(t.W * CASE t.KIND WHEN 'CATEGORY' THEN 0.5 + 0.5 * c.CAT_POP_NORM
        WHEN 'BRAND' THEN 0.5 + 0.5 * c.POP_NORM ELSE 1 END, 10) DESC, t.KIND, t.VALUE) = 1),
    e AS (
      SELECT r.*, i.PRODUCT_ID AS VIA_CF, v.PRODUCT_NAME AS VIA_NAME, t.VIA_CONTENT FROM r
      LEFT JOIN via_cf c USING (UK, PK) LEFT JOIN ${p}pid i ON i.PK = c.VIA_PK LEFT JOIN ${p}catalog v ON v.PK = c.VIA_PK
      LEFT JOIN via_ct t USING (UK, PK))`
    : `, e AS (SELECT * FROM r)`;
  // EASE's reason names the customer's product that contributed most to the score.
  const easeNames = explain && (algo === 'ease' || (algo === 'hybrid' && usesEase(w)))
    ? `, e2 AS (SELECT e.*, ve.PRODUCT_ID AS VIA_EASE_ID, ve.PRODUCT_NAME AS VIA_EASE_NAME FROM e LEFT JOIN ${p}catalog ve ON ve.PK = e.VIA_EASE)`
    : `, e2 AS (SELECT * FROM e)`;
  await engine.run(`CREATE OR REPLACE TABLE ${table} AS
    WITH k AS (
      SELECT UK, PK, ${s.score} AS SCORE, row_number() OVER (PARTITION BY UK ORDER BY ${s.order})::INTEGER AS RANK
      FROM ${p}cand QUALIFY RANK <= ${topN}),
    -- The window sorts narrow rows (keys and the score's inputs); the wide ones are fetched for the top N only.
    r AS (SELECT c.*, u.CUSTOMER360_ID, i.PRODUCT_ID, k.SCORE, k.RANK FROM k JOIN ${p}cand c USING (UK, PK) JOIN ${p}uk u USING (UK) JOIN ${p}pid i USING (PK))${lookups}${easeNames}
    SELECT CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, ${explain ? s.reason : 'NULL::VARCHAR'} AS REASON FROM e2`);
  return table;
}

/** `<p>relevant`: products each customer bought in (from, to]: the holdout truth. */
export async function buildRelevant(engine: Engine, p: string, from: string, to: string): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE ${p}relevant AS
    SELECT DISTINCT CUSTOMER360_ID, PRODUCT_ID FROM base_lines WHERE TX_DATE > DATE ${lit(from)} AND TX_DATE <= DATE ${lit(to)}`);
}

/** precision/recall/NDCG/hit rate @k over `<p>users` who bought anything in the holdout. */
export async function recMetrics(engine: Engine, p: string, recs: string, k = 10): Promise<RecMetrics> {
  const rows = await engine.all<Record<string, number | string | null>>(`
    WITH u AS (SELECT CUSTOMER360_ID, count(*) AS NREL FROM ${p}relevant WHERE CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}users) GROUP BY 1),
    r AS (SELECT x.CUSTOMER360_ID, x.RANK, CASE WHEN rel.PRODUCT_ID IS NULL THEN 0 ELSE 1 END AS HIT
      FROM ${recs} x LEFT JOIN ${p}relevant rel USING (CUSTOMER360_ID, PRODUCT_ID) WHERE x.RANK <= ${k}),
    a AS (SELECT u.CUSTOMER360_ID, u.NREL, coalesce(sum(r.HIT), 0) AS HITS, coalesce(sum(r.HIT / log2(r.RANK + 1)), 0) AS DCG
      FROM u LEFT JOIN r USING (CUSTOMER360_ID) GROUP BY 1, 2)
    SELECT count(*) AS users, avg(HITS / ${k}) AS precision, avg(HITS / NREL) AS recall,
      avg(DCG / list_sum(list_transform(range(1, least(NREL, ${k}) + 1), i -> 1 / log2(i + 1)))) AS ndcg,
      avg(CASE WHEN HITS > 0 THEN 1 ELSE 0 END) AS hit_rate FROM a`);
  const r = rows[0]!;
  return { users: Number(r.users), precision: Number(r.precision ?? 0), recall: Number(r.recall ?? 0), ndcg: Number(r.ndcg ?? 0), hitRate: Number(r.hit_rate ?? 0) };
}

/** All weight vectors on a simplex grid (step 1/steps), over the four signals, and EASE too with `ease`. */
export function weightGrid(steps = 5, ease = false): Weights[] {
  const out: Weights[] = [];
  for (let e = 0; e <= (ease ? steps : 0); e++)
    for (let a = 0; a + e <= steps; a++)
      for (let b = 0; a + b + e <= steps; b++)
        for (let c = 0; a + b + c + e <= steps; c++) {
          const d = steps - a - b - c - e;
          out.push({ repeat: a / steps, cf: b / steps, content: c / steps, popularity: d / steps, ...(ease ? { ease: e / steps } : {}) });
        }
  return out;
}

/** Fills `<p>users` with the population of a feature snapshot table. */
export async function setUsers(engine: Engine, p: string, snapshotTable: string): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE ${p}users AS SELECT DISTINCT CUSTOMER360_ID FROM ${snapshotTable}`);
}

/** Customers with holdout purchases sampled for weight tuning. */
export const TUNING_USERS = 3000;

/** NDCG@k of one ranked list of 0/1 relevance flags, with `relevant` items in the truth. */
export function ndcgAt(flags: readonly number[], relevant: number, k: number): number {
  let dcg = 0;
  flags.slice(0, k).forEach((f, i) => (dcg += f / Math.log2(i + 2)));
  let idcg = 0;
  for (let i = 0; i < Math.min(relevant, k); i++) idcg += 1 / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Candidate signals of the tuning sample as columns; users are the row ranges [start[u], start[u + 1]). */
export interface TuningMatrix {
  R: Float64Array;
  C: Float64Array;
  /** EASE's normalised score (zeros when it was not fitted). */
  E: Float64Array;
  T: Float64Array;
  Q: Float64Array;
  POP: Float64Array;
  REL: Uint8Array;
  start: Int32Array;
  nrel: Int32Array;
}

interface TuningColumns {
  R: number[] | null;
  /** Purchase days of the product by the customer, and days since the last (for the repeat signal's decay). */
  N?: number[];
  AGE?: number[];
  C: number[];
  E?: number[] | null;
  T: number[];
  Q: number[];
  POP: number[];
  REL: number[];
  NREL: number[];
  START: number[];
}

/** Standard error of mean(a) - mean(b) over 200 paired bootstrap resamples of the rows (seeded: same data, same answer). */
export function pairedStandardError(a: Float64Array, b: Float64Array, samples = 200): number {
  const n = a.length;
  if (n < 2) return 0;
  const rnd = seededRandom(18);
  const diffs: number[] = [];
  for (let s = 0; s < samples; s++) {
    let t = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rnd() * n);
      t += a[j]! - b[j]!;
    }
    diffs.push(t / n);
  }
  const mean = diffs.reduce((x, y) => x + y, 0) / samples;
  return Math.sqrt(diffs.reduce((x, y) => x + (y - mean) ** 2, 0) / (samples - 1));
}

/** Decays (days) the repeat signal ln(1 + N) exp(-age / decay) is fitted over, on the validation split. */
export const REPEAT_DECAYS = [30, 90, 180, 365] as const;
/** The decay buildCandidates uses (the SQL default). */
export const DEFAULT_REPEAT_DECAY = 90;

/** The repeat score of one candidate, before per-customer normalisation (the same formula as the SQL). */
function repeatRaw(n: number, age: number, decay: number): number {
  return n > 0 ? Math.log(1 + n) * Math.exp(-age / decay) : 0;
}

export function tuningMatrix(c: TuningColumns, k = 10, repeatDecay?: number): TuningMatrix {
  const f = (x: readonly unknown[]) => Float64Array.from(x, Number);
  const start = Int32Array.from([...c.START.map(Number), c.C.length]);
  let R = f(c.R ?? []);
  if (repeatDecay !== undefined && c.N && c.AGE) {
    // Re-derive S_REPEAT for this decay: raw score over the customer's maximum, as buildCandidates normalises.
    R = new Float64Array(c.C.length);
    for (let u = 0; u + 1 < start.length; u++) {
      let max = 0;
      for (let i = start[u]!; i < start[u + 1]!; i++) max = Math.max(max, (R[i] = repeatRaw(Number(c.N[i]), Number(c.AGE[i]), repeatDecay)));
      if (max > 0) for (let i = start[u]!; i < start[u + 1]!; i++) R[i] = R[i]! / max;
    }
  }
  const full: TuningMatrix = {
    R, C: f(c.C), E: c.E ? f(c.E) : new Float64Array(c.C.length), T: f(c.T), Q: f(c.Q), POP: f(c.POP), REL: Uint8Array.from(c.REL, Number),
    start, nrel: Int32Array.from(c.NREL, Number),
  };
  return pruneDominated(full, k);
}

/** Recomputes S_REPEAT of `<p>cand` as of `asOf` with another decay (N and LAST_DATE are on every candidate). */
export async function applyRepeatDecay(engine: Engine, p: string, asOf: string, decay: number): Promise<void> {
  if (decay === DEFAULT_REPEAT_DECAY) return;
  await engine.run(`CREATE OR REPLACE TABLE ${p}cand AS
    WITH r AS (SELECT *, CASE WHEN N > 0 THEN ln(1 + N) * exp(-date_diff('day', LAST_DATE, DATE ${lit(asOf)}) / ${Number(decay)}.0) ELSE 0 END AS R2 FROM ${p}cand)
    SELECT * EXCLUDE (R2) REPLACE (R2 AS R_REPEAT, coalesce(R2 / nullif(max(R2) OVER (PARTITION BY UK), 0), 0) AS S_REPEAT) FROM r`);
}

/**
 * Drops the candidates that can never reach a top k: those with k others that score at least as high under every
 * non-negative blend (no signal lower) and win the tie too (earlier in product order, or higher on every signal).
 * Scores are sums of non-negative products, which floating point keeps monotone, so the grid's top k are unchanged;
 * most candidates go, and the grid search runs on what is left.
 */
function pruneDominated(m: TuningMatrix, k: number): TuningMatrix {
  const keep: number[] = [];
  const start: number[] = [];
  const { R, C, E, T, Q, POP } = m;
  for (let u = 0; u < m.nrel.length; u++) {
    start.push(keep.length);
    const a = m.start[u]!;
    const b = m.start[u + 1]!;
    for (let i = a; i < b; i++) {
      let dominators = 0;
      for (let j = a; j < b && dominators < k; j++) {
        if (j === i || R[j]! < R[i]! || C[j]! < C[i]! || E[j]! < E[i]! || T[j]! < T[i]! || Q[j]! < Q[i]! || POP[j]! < POP[i]!) continue;
        if (j < i || (R[j]! > R[i]! && C[j]! > C[i]! && E[j]! >= E[i]! && T[j]! > T[i]! && Q[j]! > Q[i]! && POP[j]! > POP[i]!)) dominators++;
      }
      if (dominators < k) keep.push(i);
    }
  }
  start.push(keep.length);
  const pick = <A extends Float64Array | Uint8Array>(x: A, make: (n: number) => A): A => {
    const out = make(keep.length);
    keep.forEach((i, n) => (out[n] = x[i]!));
    return out;
  };
  const f64 = (n: number) => new Float64Array(n);
  return {
    R: pick(R, f64), C: pick(C, f64), E: pick(E, f64), T: pick(T, f64), Q: pick(Q, f64), POP: pick(POP, f64), REL: pick(m.REL, (n) => new Uint8Array(n)),
    start: Int32Array.from(start), nrel: m.nrel,
  };
}

/**
 * Mean NDCG@k of the blend `w` over the matrix's users: a top-k selection per user (score, then row order = product
 * id, as the SQL ranking orders) instead of a full sort, so the 286-point grid stays cheap.
 */
export function meanNdcg(m: TuningMatrix, w: Weights, k: number, perUser?: Float64Array): number {
  const users = m.nrel.length;
  if (users === 0) return 0;
  const idcg = new Float64Array(k + 1);
  const discount = new Float64Array(k);
  for (let i = 1; i <= k; i++) {
    discount[i - 1] = 1 / Math.log2(i + 1);
    idcg[i] = idcg[i - 1]! + discount[i - 1]!;
  }
  const topS = new Float64Array(k);
  const topI = new Int32Array(k);
  // Locals, not property reads, in the hot loop.
  const { R, C, E, T, Q, POP, start } = m;
  const wr = w.repeat, wc = w.cf, wt = w.content, wq = w.popularity, we = w.ease ?? 0;
  let total = 0;
  for (let u = 0; u < users; u++) {
    let size = 0;
    const end = start[u + 1]!;
    for (let i = start[u]!; i < end; i++) {
      const s = wr * R[i]! + wc * C[i]! + wt * T[i]! + wq * Q[i]! + we * E[i]! + 1e-6 * POP[i]!;
      // Rows arrive in tie-break order, so a new row enters only on a strictly higher score.
      size = offerTop(topS, topI, size, s, i);
    }
    let dcg = 0;
    for (let j = 0; j < size; j++) dcg += m.REL[topI[j]!]! * discount[j]!;
    const ideal = idcg[Math.min(m.nrel[u]!, k)]!;
    const v = ideal > 0 ? dcg / ideal : 0;
    if (perUser) perUser[u] = v;
    total += v;
  }
  return total / users;
}

export interface TunedWeights {
  weights: Weights;
  tuned: boolean;
  /**
   * 'blend' when the fitted blend beat every single ingredient on the validation split; otherwise the best ingredient
   * alone is served (its weight 1, the others 0).
   */
  served?: 'blend' | BlendInput;
  /** Validation NDCG@10 of the fitted blend and of each ingredient alone (the evidence for `served`). */
  validationNdcg?: { blend: number } & Record<Signal, number> & { ease?: number };
  /** EASE's strength and size as fitted on the split (absent when it could not be: fewer than two products). */
  ease?: EaseChoice;
  /** Decay of the repeat signal in days, fitted with the weights (REPEAT_DECAYS). */
  repeatDecayDays?: number;
  /** The split tuned on: signals as of `asOf`, truth in (asOf, until]. */
  split?: { asOf: string; until: string };
  validation?: RecMetrics;
}

/**
 * Tunes the blend on the split that ends at `asOf`: signals as of asOf - horizon, truth in (asOf - horizon, asOf].
 * Only data on or before `asOf` is touched, so tuning never sees what the weights are later scored on.
 */
export async function tuneWeights(engine: Engine, asOf: string, horizonDays: number, usersFrom: (p: string, asOf: string) => Promise<void>, o: SignalOptions = DEFAULT_SIGNAL_OPTIONS): Promise<TunedWeights> {
  const splitAt = addDays(asOf, -horizonDays);
  const p = `rt_${splitAt.replace(/-/g, '')}_`;
  await usersFrom(p, splitAt);
  await buildRelevant(engine, p, splitAt, asOf);
  // Only customers who bought in the split's holdout can score: a stable sample of them is all that tuning (and its
  // validation) needs candidates for, which keeps this step's cost flat as the customer base grows.
  await engine.run(`CREATE OR REPLACE TABLE ${p}users AS
    SELECT CUSTOMER360_ID FROM ${p}users WHERE CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}relevant)
    ORDER BY hash(CUSTOMER360_ID), CUSTOMER360_ID LIMIT ${TUNING_USERS}`);
  await buildCandidates(engine, p, splitAt, o);
  // EASE, its strength chosen on this split's truth, joins the candidates as a fifth input to the blend.
  const ease = await chooseEase(engine, p, splitAt, BASE_SIGNAL_INPUTS.lines);
  if (ease) await addEaseSignal(engine, p, ease, o.candidatesPerSignal);
  // Rows come sorted by customer then product, so a row's position is the product-id tie-break of the SQL ranking.
  // Fetched as one row of column lists (far cheaper than one JS object per candidate).
  const [cols] = await engine.all<TuningColumns>(`
    WITH u AS (
      SELECT k.UK, count(*)::INTEGER AS NREL FROM ${p}relevant JOIN ${p}uk k USING (CUSTOMER360_ID)
      WHERE CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}users) GROUP BY 1),
    rel AS (SELECT k.UK, i.PK FROM ${p}relevant JOIN ${p}uk k USING (CUSTOMER360_ID) JOIN ${p}pid i USING (PRODUCT_ID)),
    x AS (
      SELECT k.S_REPEAT AS R, k.N, coalesce(date_diff('day', k.LAST_DATE, DATE ${lit(splitAt)}), 0) AS AGE, k.S_CF AS C, ${ease ? 'k.S_EASE' : '0.0'} AS E, k.S_CONTENT AS T, k.S_POPULARITY AS Q, k.POP_NORM AS POP,
        CASE WHEN r.PK IS NULL THEN 0 ELSE 1 END AS REL, u.NREL, row_number() OVER (PARTITION BY k.UK ORDER BY k.PK) = 1 AS FIRST, k.UK, k.PK
      FROM ${p}cand k JOIN u USING (UK) LEFT JOIN rel r USING (UK, PK))
    SELECT list(R ORDER BY UK, PK) AS R, list(N ORDER BY UK, PK) AS N, list(AGE ORDER BY UK, PK) AS AGE, list(C ORDER BY UK, PK) AS C, list(E ORDER BY UK, PK) AS E, list(T ORDER BY UK, PK) AS T, list(Q ORDER BY UK, PK) AS Q,
      list(POP ORDER BY UK, PK) AS POP, list(REL ORDER BY UK, PK) AS REL, list(NREL ORDER BY UK, PK) FILTER (WHERE FIRST) AS NREL,
      list(row_number ORDER BY UK, PK) FILTER (WHERE FIRST) AS START
    FROM (SELECT *, (row_number() OVER (ORDER BY UK, PK) - 1)::INTEGER AS row_number FROM x)`);
  if (!cols || !cols.R || cols.R.length === 0) return { weights: DEFAULT_WEIGHTS, tuned: false };
  // The blend's weights and the repeat signal's decay are fitted together.
  const inputs: BlendInput[] = ease ? [...SIGNALS, 'ease'] : [...SIGNALS];
  const alone = (sig: BlendInput): Weights => ({ repeat: 0, cf: 0, content: 0, popularity: 0, ...(ease ? { ease: 0 } : {}), [sig]: 1 });
  let best: { w: Weights; ndcg: number; decay: number } | undefined;
  const ingredients = Object.fromEntries(inputs.map((sig) => [sig, -1])) as Record<BlendInput, number>;
  let repeatAloneDecay: number = DEFAULT_REPEAT_DECAY;
  // Coarse grid (step 1/5) for every decay, then the fine grid (step 1/10) at the best decay only: the cost of the
  // search stays near one fine grid.
  const matrices = new Map(REPEAT_DECAYS.map((d) => [d as number, tuningMatrix(cols, 10, d)]));
  let coarse: { ndcg: number; decay: number; w: Weights } | undefined;
  for (const [decay, m] of matrices) {
    for (const w of weightGrid(5, !!ease)) {
      const ndcg = meanNdcg(m, w, 10);
      if (!coarse || ndcg > coarse.ndcg + 1e-12) coarse = { ndcg, decay, w };
    }
  }
  // The fine grid: every blend without EASE (286 points, as without it), and blends with EASE only if the coarse
  // optimum weighs it, within 0.2 of that optimum on every weight (the whole five-input grid is 1,001 points).
  const near = (w: Weights) => !usesEase(w) || (usesEase(coarse!.w) && inputs.every((k) => Math.abs((w[k] ?? 0) - (coarse!.w[k] ?? 0)) <= 0.2 + 1e-9));
  let plain: { w: Weights; ndcg: number; decay: number } | undefined;
  for (const w of weightGrid(10, !!ease).filter(near)) {
    const ndcg = meanNdcg(matrices.get(coarse!.decay)!, w, 10);
    if (!best || ndcg > best.ndcg + 1e-12) best = { w, ndcg, decay: coarse!.decay };
    if (!usesEase(w) && (!plain || ndcg > plain.ndcg + 1e-12)) plain = { w, ndcg, decay: coarse!.decay };
  }
  // EASE joins the blend only if the best blend with it beats the best without it by more than one paired-bootstrap
  // standard error over the validation customers (a gain within noise is not worth its cost: the inverse per run).
  if (ease && usesEase(best!.w)) {
    const m = matrices.get(coarse!.decay)!;
    const withIt = new Float64Array(m.nrel.length);
    const without = new Float64Array(m.nrel.length);
    meanNdcg(m, best!.w, 10, withIt);
    meanNdcg(m, plain!.w, 10, without);
    const standardError = pairedStandardError(withIt, without);
    const used = best!.ndcg - plain!.ndcg > standardError;
    ease.choice.blend = { withEase: best!.ndcg, withoutEase: plain!.ndcg, standardError, used };
    if (!used) best = plain;
  }
  for (const [decay, m] of matrices) {
    // Each ingredient alone on the same split (repeat at its own best decay): a blend that does not beat the best of
    // them is not served.
    for (const sig of inputs) {
      const ndcg = meanNdcg(m, alone(sig), 10);
      if (ndcg > ingredients[sig] + 1e-12) {
        ingredients[sig] = ndcg;
        if (sig === 'repeat') repeatAloneDecay = decay;
      }
    }
  }
  const top = inputs.reduce((a, b) => (ingredients[b] > ingredients[a] ? b : a));
  const served: 'blend' | BlendInput = best!.ndcg > ingredients[top] + 1e-12 ? 'blend' : top;
  if (served !== 'blend') best = { w: alone(top), ndcg: ingredients[top], decay: top === 'repeat' ? repeatAloneDecay : DEFAULT_REPEAT_DECAY };
  await applyRepeatDecay(engine, p, splitAt, best!.decay);
  const final = await rank(engine, p, 'hybrid', best!.w, 10, false);
  const validation = await recMetrics(engine, p, final, 10);
  // The split's tables served their purpose (the scoring date builds its own).
  const tables = await engine.all<{ name: string }>(`SELECT table_name AS name FROM duckdb_tables() WHERE starts_with(table_name, ${lit(p)})`);
  for (const t of tables) await engine.run(`DROP TABLE IF EXISTS ${t.name}`);
  return {
    weights: best!.w, tuned: true, split: { asOf: splitAt, until: asOf }, validation, served, validationNdcg: { blend: best!.ndcg, ...ingredients }, repeatDecayDays: best!.decay,
    ...(ease ? { ease: ease.choice } : {}),
  };
}

export { buildCandidates, SIGNALS };
