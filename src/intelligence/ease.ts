// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): a closed-form item-item model.
// With X the binary customer x item matrix and G = X'X, P = (G + lambda I)^-1 and B = I - P / diag(P) (column-wise),
// so B's diagonal is 0 and a customer's scores are x_u B. The inverse is a Cholesky factorisation in plain
// TypeScript (Float64Array, no native dependency): n^3/2 multiply-adds for n items, n^2 doubles of memory, which is
// why the model keeps the `maxItems` most popular products only (EASE_MAX_ITEMS).
import { lit, type Engine } from '../engine/duckdb.ts';
import { offerTop } from './math.ts';

/**
 * Products EASE models: the most popular ones. 1,000 is an 8 MB matrix and about 0.5 s per inverse on an idle core
 * (2,000 would be 8 times the work); on the grocery panel the 1,000 most popular products at the validation split
 * hold a third of the next quarter's (customer, product) purchases.
 */
export const EASE_MAX_ITEMS = 1000;
/** Ridge strengths tried on the validation split (the Gram diagonal holds each product's buyer count). */
export const EASE_LAMBDAS = [8, 32, 128, 512, 2048] as const;

/** sum_k a[ia + k] b[ib + k] for k < len, with four accumulators (about twice as fast in V8 as one). */
function dot(a: Float64Array, ia: number, b: Float64Array, ib: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[ia + k]! * b[ib + k]!;
    s1 += a[ia + k + 1]! * b[ib + k + 1]!;
    s2 += a[ia + k + 2]! * b[ib + k + 2]!;
    s3 += a[ia + k + 3]! * b[ib + k + 3]!;
  }
  for (; k < len; k++) s0 += a[ia + k]! * b[ib + k]!;
  return s0 + s1 + s2 + s3;
}

/**
 * The inverse of a symmetric positive definite n x n matrix (row-major): Cholesky A = L L', X = L^-1 by forward
 * substitution, A^-1 = X' X. Every inner loop runs along a row (contiguous memory: dot products and row updates), about
 * n^3 / 2 multiply-adds. Throws if A is not positive definite.
 */
export function spdInverse(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`spdInverse: ${a.length} values for a ${n} x ${n} matrix`);
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      const s = a[ri + j]! - dot(L, ri, L, rj, j);
      if (i === j) {
        if (!(s > 0)) throw new Error(`spdInverse: matrix is not positive definite (pivot ${i} = ${s})`);
        L[ri + i] = Math.sqrt(s);
      } else L[ri + j] = s / L[rj + j]!;
    }
  }
  // Row i of X = L^-1: (e_i - sum_{k<i} L[i][k] X[k]) / L[i][i]; X[k] is zero right of column k.
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    X[ri + i] = 1;
    for (let k = 0; k < i; k++) {
      const f = L[ri + k]!;
      if (f === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) X[ri + c]! -= f * X[rk + c]!;
    }
    const d = 1 / L[ri + i]!;
    for (let c = 0; c <= i; c++) X[ri + c]! *= d;
  }
  // P = X' X, accumulated row by row of X into P's lower half, then mirrored.
  const P = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let x = 0; x <= k; x++) {
      const f = X[rk + x]!;
      if (f === 0) continue;
      const rx = x * n;
      for (let y = 0; y <= x; y++) P[rx + y]! += f * X[rk + y]!;
    }
  }
  for (let x = 0; x < n; x++) for (let y = 0; y < x; y++) P[y * n + x] = P[x * n + y]!;
  return P;
}

/** B = I - P / diag(P) with P = (G + lambda I)^-1: B[i][j] = -P[i][j] / P[j][j] off the diagonal, 0 on it. */
export function easeWeights(gram: Float64Array, n: number, lambda: number): Float64Array {
  const a = Float64Array.from(gram);
  for (let i = 0; i < n; i++) a[i * n + i] = a[i * n + i]! + lambda;
  const P = spdInverse(a, n);
  const d = new Float64Array(n);
  for (let j = 0; j < n; j++) d[j] = P[j * n + j]!;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < n; j++) P[ri + j] = i === j ? 0 : -P[ri + j]! / d[j]!;
  }
  return P;
}

/** Customers' item sets as CSR: customer c holds items idx[start[c] .. start[c + 1]). */
export interface ItemSets {
  start: Int32Array;
  idx: Int32Array;
}

/** G = X'X of the binary matrix whose rows are the item sets. */
export function gramOf(sets: ItemSets, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let c = 0; c + 1 < sets.start.length; c++) {
    const a = sets.start[c]!;
    const b = sets.start[c + 1]!;
    for (let x = a; x < b; x++) {
      const r = sets.idx[x]! * n;
      for (let y = a; y < b; y++) g[r + sets.idx[y]!]! += 1;
    }
  }
  return g;
}

export interface EaseTop {
  /** Item index, score, and the customer's item that contributed most (for the reason). */
  item: Int32Array;
  score: Float64Array;
  via: Int32Array;
}

/** The top `k` positive scores x_u B of one item set (ties: lower item index first, as items are in product order). */
export function easeTop(B: Float64Array, n: number, items: ArrayLike<number>, k: number, scratch = new Float64Array(n)): EaseTop {
  scratch.fill(0);
  for (let t = 0; t < items.length; t++) {
    const r = items[t]! * n;
    for (let j = 0; j < n; j++) scratch[j] = scratch[j]! + B[r + j]!;
  }
  const topS = new Float64Array(k).fill(-Infinity);
  const topI = new Int32Array(k).fill(-1);
  let size = 0;
  for (let j = 0; j < n; j++) {
    const s = scratch[j]!;
    if (s > 0) size = offerTop(topS, topI, size, s, j);
  }
  const via = new Int32Array(size);
  for (let p = 0; p < size; p++) {
    let best = -Infinity;
    for (let t = 0; t < items.length; t++) {
      const w = B[items[t]! * n + topI[p]!]!;
      if (w > best || (w === best && items[t]! < via[p]!)) {
        best = w;
        via[p] = items[t]!;
      }
    }
  }
  return { item: topI.slice(0, size), score: topS.slice(0, size), via };
}

/** The modelled products (PK, most popular first) and every customer's set of them, from the catalogue and the lines up to `asOf`. */
export async function loadItemSets(engine: Engine, p: string, asOf: string, lines: string, maxItems: number, users?: string): Promise<{ pks: number[]; customers: string[]; sets: ItemSets }> {
  // Items in PK (= product id) order, so score ties break as the SQL ranking does.
  const items = await engine.all<{ PK: number }>(`SELECT PK FROM ${p}catalog WHERE POP_RANK <= ${Number(maxItems)} ORDER BY PK`);
  const pks = items.map((r) => Number(r.PK));
  const [row] = await engine.all<{ C: string[] | null; I: number[] | null; S: number[] | null }>(`
    WITH it AS (SELECT PK, (row_number() OVER (ORDER BY PK) - 1)::INTEGER AS IX FROM ${p}catalog WHERE POP_RANK <= ${Number(maxItems)}),
    x AS (SELECT DISTINCT l.CUSTOMER360_ID, it.IX FROM ${lines} l JOIN ${p}pid i USING (PRODUCT_ID) JOIN it USING (PK) WHERE l.TX_DATE <= DATE ${lit(asOf)}${users ? ` AND l.CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${users})` : ''}),
    o AS (SELECT *, (row_number() OVER (ORDER BY CUSTOMER360_ID, IX) - 1)::INTEGER AS RN,
      row_number() OVER (PARTITION BY CUSTOMER360_ID ORDER BY IX) = 1 AS FIRST FROM x)
    SELECT list(CUSTOMER360_ID ORDER BY RN) FILTER (WHERE FIRST) AS C, list(IX ORDER BY RN) AS I, list(RN ORDER BY RN) FILTER (WHERE FIRST) AS S FROM o`);
  const idx = Int32Array.from(row?.I ?? [], Number);
  const start = Int32Array.from([...(row?.S ?? []).map(Number), idx.length]);
  return { pks, customers: (row?.C ?? []).map(String), sets: { start, idx } };
}

/** What tuning chose for EASE (stored with the blend's weights, refitted at that strength on every scoring run). */
export interface EaseChoice {
  lambda: number;
  /** Products modelled at the split (at most maxItems). */
  items: number;
  maxItems: number;
  /** Validation NDCG@10 of EASE alone per lambda tried (its own top 10 of the modelled products). */
  ndcgByLambda: Record<string, number>;
  /**
   * When the best blend on the validation split weighed EASE: its NDCG@10, the best blend's without EASE, the paired
   * bootstrap standard error of the difference, and whether EASE was kept (gain above one standard error).
   */
  blend?: { withEase: number; withoutEase: number; standardError: number; used: boolean };
}

export interface FittedEase {
  choice: EaseChoice;
  B: Float64Array;
  pks: number[];
  customers: string[];
  sets: ItemSets;
}

/** Mean NDCG@k of EASE's own top k over customers with truth; `truth` maps a customer to the PKs bought and their count. */
function easeNdcg(B: Float64Array, n: number, pks: number[], customers: string[], sets: ItemSets, truth: Map<string, { pks: Set<number>; n: number }>, k: number): number {
  const scratch = new Float64Array(n);
  let total = 0;
  const discount = (i: number) => 1 / Math.log2(i + 2);
  const seen = new Set<string>();
  customers.forEach((c, u) => {
    const t = truth.get(c);
    if (!t) return;
    seen.add(c);
    const top = easeTop(B, n, sets.idx.subarray(sets.start[u]!, sets.start[u + 1]!), k, scratch);
    let dcg = 0;
    top.item.forEach((j, r) => (dcg += t.pks.has(pks[j]!) ? discount(r) : 0));
    let ideal = 0;
    for (let r = 0; r < Math.min(t.n, k); r++) ideal += discount(r);
    total += dcg / ideal;
  });
  // Customers with truth but none of the modelled products score 0 (they count, as in the SQL metric).
  return truth.size ? total / truth.size : 0;
}

/**
 * Fits EASE as of `asOf` for each lambda and keeps the one with the best NDCG@k against `<p>relevant` for the
 * customers of `<p>users` (the validation split's truth). Null when fewer than two products can be modelled.
 */
export async function chooseEase(engine: Engine, p: string, asOf: string, lines: string, k = 10, maxItems = EASE_MAX_ITEMS, lambdas: readonly number[] = EASE_LAMBDAS): Promise<FittedEase | null> {
  const { pks, customers, sets } = await loadItemSets(engine, p, asOf, lines, maxItems);
  const n = pks.length;
  if (n < 2) return null;
  const rows = await engine.all<{ C: string; PK: number | null; NREL: number }>(`
    SELECT r.CUSTOMER360_ID AS C, i.PK, (count(*) OVER (PARTITION BY r.CUSTOMER360_ID))::INTEGER AS NREL
    FROM ${p}relevant r LEFT JOIN ${p}pid i USING (PRODUCT_ID) WHERE r.CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}users)`);
  const truth = new Map<string, { pks: Set<number>; n: number }>();
  for (const r of rows) {
    const t = truth.get(r.C) ?? { pks: new Set<number>(), n: Number(r.NREL) };
    if (r.PK !== null) t.pks.add(Number(r.PK));
    truth.set(r.C, t);
  }
  const gram = gramOf(sets, n);
  let best: { lambda: number; ndcg: number; B: Float64Array } | undefined;
  const ndcgByLambda: Record<string, number> = {};
  for (const lambda of lambdas) {
    const B = easeWeights(gram, n, lambda);
    const ndcg = easeNdcg(B, n, pks, customers, sets, truth, k);
    ndcgByLambda[String(lambda)] = ndcg;
    if (!best || ndcg > best.ndcg + 1e-12) best = { lambda, ndcg, B };
  }
  return { choice: { lambda: best!.lambda, items: n, maxItems, ndcgByLambda }, B: best!.B, pks, customers, sets };
}

/** Fits EASE at one strength as of `asOf` (a scoring run, with the lambda tuning chose). Null when fewer than two products. */
export async function fitEase(engine: Engine, p: string, asOf: string, lines: string, lambda: number, maxItems = EASE_MAX_ITEMS): Promise<Omit<FittedEase, 'choice'> | null> {
  const { pks, customers, sets } = await loadItemSets(engine, p, asOf, lines, maxItems);
  if (pks.length < 2) return null;
  return { B: easeWeights(gramOf(sets, pks.length), pks.length, lambda), pks, customers, sets };
}

/**
 * EASE fitted by a training run (its weights and modelled products, stored with the model) applied as of `asOf`:
 * only the item sets of `<p>users` are read (the weights are not refitted). Null when the modelled products are not
 * those of `<p>catalog` (the catalogue stored with them), which a caller treats as no stored fit.
 */
export async function storedEase(engine: Engine, p: string, asOf: string, lines: string, stored: { B: Float64Array; pks: number[] }, maxItems: number): Promise<Omit<FittedEase, 'choice'> | null> {
  const { pks, customers, sets } = await loadItemSets(engine, p, asOf, lines, maxItems, `${p}users`);
  if (pks.length !== stored.pks.length || pks.some((k, i) => k !== stored.pks[i]) || stored.B.length !== pks.length * pks.length) return null;
  return { B: stored.B, pks, customers, sets };
}

/**
 * Adds EASE to `<p>cand`: its top `k` products per customer of `<p>uk` join the candidates (with no other signal's
 * score unless another signal proposed them too; returned products stay out), and every candidate gets R_EASE, the
 * normalised S_EASE (0..1 per customer, like the other signals) and VIA_EASE (the customer's product that
 * contributed most, for the reason).
 */
export async function addEaseSignal(engine: Engine, p: string, fit: Omit<FittedEase, 'choice'>, k: number): Promise<void> {
  const { B, pks, customers, sets } = fit;
  const n = pks.length;
  const uks = new Map((await engine.all<{ C: string; UK: number }>(`SELECT CUSTOMER360_ID AS C, UK FROM ${p}uk`)).map((r) => [r.C, Number(r.UK)]));
  await engine.run(`CREATE OR REPLACE TABLE ${p}ease (UK INTEGER, PK INTEGER, R_EASE DOUBLE, VIA_EASE INTEGER)`);
  // Appended as they are computed: k rows for each of up to a million customers held as JS arrays first cost
  // gigabytes of heap.
  const appender = await engine.connection.createAppender(`${p}ease`);
  try {
    const scratch = new Float64Array(n);
    customers.forEach((c, u) => {
      const uk = uks.get(c);
      if (uk === undefined) return;
      const top = easeTop(B, n, sets.idx.subarray(sets.start[u]!, sets.start[u + 1]!), k, scratch);
      for (let r = 0; r < top.item.length; r++) {
        appender.appendInteger(uk);
        appender.appendInteger(pks[top.item[r]!]!);
        appender.appendDouble(top.score[r]!);
        appender.appendInteger(pks[top.via[r]!]!);
        appender.endRow();
      }
    });
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await engine.run(`INSERT INTO ${p}cand BY NAME
    SELECT e.UK, e.PK, 0 AS N, NULL AS LAST_DATE, 0.0 AS R_REPEAT, 0.0 AS R_CF, 0.0 AS R_CONTENT, 0.0 AS CATPOP, c.CATEGORY, c.POP, c.POP_NORM,
      0.0 AS S_REPEAT, 0.0 AS S_CF, 0.0 AS S_CONTENT, c.POP_NORM AS S_POPULARITY
    FROM ${p}ease e JOIN ${p}catalog c USING (PK) ANTI JOIN ${p}cand x USING (UK, PK) ANTI JOIN ${p}returned r USING (UK, PK)`);
  await engine.run(`CREATE OR REPLACE TABLE ${p}cand AS
    SELECT c.*, coalesce(e.R_EASE, 0.0) AS R_EASE, coalesce(e.R_EASE / nullif(max(e.R_EASE) OVER (PARTITION BY c.UK), 0), 0.0) AS S_EASE, e.VIA_EASE
    FROM ${p}cand c LEFT JOIN ${p}ease e USING (UK, PK)`);
}
