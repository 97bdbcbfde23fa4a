// Numerical building blocks for the models: log-gamma, Gauss hypergeometric 2F1, Nelder-Mead, a seeded PRNG and
// rank statistics. Written here so that model fitting needs no native or downloaded dependency.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Gauss hypergeometric 2F1(a, b; c; z) by its power series, for 0 <= z < 1 (callers transform to keep z moderate). */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (z < 0 || z >= 1) throw new RangeError(`hyp2f1: z=${z} outside [0, 1)`);
  let term = 1;
  let sum = 1;
  for (let n = 0; n < 100_000; n++) {
    term *= ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (Math.abs(term) < 1e-15 * Math.abs(sum)) return sum;
  }
  throw new Error(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge`);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

export interface NelderMeadOptions {
  maxIterations?: number;
  /** Stop when the simplex's function values and points are this close. */
  tolerance?: number;
  /** Stop only when the simplex's points are this close too (default 1e-8). */
  spreadTolerance?: number;
  initialStep?: number;
}

export interface OptimumResult {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

/** Minimises f by the Nelder-Mead simplex method (standard coefficients), restarted once from the optimum. */
export function nelderMead(f: (x: number[]) => number, start: number[], options: NelderMeadOptions = {}): OptimumResult {
  let best = nelderMeadOnce(f, start, options);
  // A restart guards against the simplex collapsing early on a curved valley.
  for (let i = 0; i < 3; i++) {
    const again = nelderMeadOnce(f, best.x, { ...options, initialStep: (options.initialStep ?? 0.5) / 4 });
    const improved = best.value - again.value > 1e-10;
    best = { ...again, iterations: best.iterations + again.iterations };
    if (!improved) break;
  }
  return best;
}

function nelderMeadOnce(f: (x: number[]) => number, start: number[], options: NelderMeadOptions): OptimumResult {
  const n = start.length;
  const maxIterations = options.maxIterations ?? 5000;
  const tol = options.tolerance ?? 1e-10;
  const step = options.initialStep ?? 0.5;
  const safe = (x: number[]) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex: { x: number[]; v: number }[] = [{ x: [...start], v: safe(start) }];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i]! += step;
    simplex.push({ x, v: safe(x) });
  }
  let it = 0;
  let converged = false;
  for (; it < maxIterations; it++) {
    simplex.sort((p, q) => p.v - q.v);
    const bestV = simplex[0]!.v;
    const worstV = simplex[n]!.v;
    let spread = 0;
    for (let i = 1; i <= n; i++) for (let j = 0; j < n; j++) spread = Math.max(spread, Math.abs(simplex[i]!.x[j]! - simplex[0]!.x[j]!));
    if (Math.abs(worstV - bestV) <= tol * (Math.abs(bestV) + tol) && spread <= (options.spreadTolerance ?? 1e-8)) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]!.x[j]! / n;
    const worst = simplex[n]!;
    const along = (t: number) => centroid.map((c, j) => c + t * (worst.x[j]! - c));
    const xr = along(-1);
    const vr = safe(xr);
    if (vr < simplex[0]!.v) {
      const xe = along(-2);
      const ve = safe(xe);
      simplex[n] = ve < vr ? { x: xe, v: ve } : { x: xr, v: vr };
    } else if (vr < simplex[n - 1]!.v) {
      simplex[n] = { x: xr, v: vr };
    } else {
      const outside = vr < worst.v;
      const xc = along(outside ? -0.5 : 0.5);
      const vc = safe(xc);
      if (vc < (outside ? vr : worst.v)) {
        simplex[n] = { x: xc, v: vc };
      } else {
        const b = simplex[0]!.x;
        simplex = simplex.map((p, i) => {
          if (i === 0) return p;
          const x = p.x.map((xi, j) => b[j]! + 0.5 * (xi - b[j]!));
          return { x, v: safe(x) };
        });
      }
    }
  }
  simplex.sort((p, q) => p.v - q.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v, iterations: it, converged };
}

/** mulberry32: a small seeded PRNG, so k-means and fixtures are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Average ranks (1-based), ties sharing their mean rank. */
export function ranks(values: readonly number[]): number[] {
  const idx = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k]![1]] = r;
    i = j + 1;
  }
  return out;
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

/** Indices of xs in ascending order of value (sorted once; resampleRanks walks it for every bootstrap resample). */
export function sortedOrder(xs: readonly number[]): Int32Array {
  return Int32Array.from(xs.keys()).sort((a, b) => xs[a]! - xs[b]!);
}

/**
 * Average ranks (1-based, ties sharing their mean) of the items a bootstrap resample drew, `counts[i]` times item i,
 * written to out[i] (items not drawn get a rank too, weighted 0 later): one pass over the sorted order, no sort per
 * resample. Pearson of these ranks weighted by the counts equals spearman() of the drawn items, ties included.
 */
export function resampleRanks(xs: readonly number[], order: Int32Array, counts: Int32Array, out: Float64Array): void {
  const n = order.length;
  let before = 0;
  for (let i = 0; i < n; ) {
    const v = xs[order[i]!]!;
    let j = i;
    let drawn = 0;
    while (j < n && xs[order[j]!]! === v) drawn += counts[order[j++]!]!;
    const r = before + (drawn + 1) / 2;
    for (let k = i; k < j; k++) out[order[k]!] = r;
    before += drawn;
    i = j;
  }
}

/** Pearson correlation with integer weights (a bootstrap resample's counts). */
export function weightedPearson(x: Float64Array, y: Float64Array, w: Int32Array): number {
  let sw = 0, sx = 0, sy = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c === 0) continue;
    sw += c;
    sx += c * x[i]!;
    sy += c * y[i]!;
  }
  if (sw < 2) return NaN;
  const mx = sx / sw;
  const my = sy / sw;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c === 0) continue;
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += c * dx * dy;
    sxx += c * dx * dx;
    syy += c * dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** ROC AUC of scores for binary labels (1 = positive), ties counted half (Mann-Whitney). */
export function auc(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  const r = ranks(scores);
  let pos = 0;
  let sumPos = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      pos++;
      sumPos += r[i]!;
    }
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (sumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Share of the total of `actual` held by the top 10% ranked by `score` (ties broken by input order). */
export function topDecileShare(score: readonly number[], actual: readonly number[]): number {
  const total = actual.reduce((s, v) => s + v, 0);
  if (total <= 0) return NaN;
  const order = score.map((s, i) => [s, i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  const k = Math.max(1, Math.round(order.length / 10));
  let top = 0;
  for (let i = 0; i < k; i++) top += actual[order[i]![1]]!;
  return top / total;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Offers (s, i) to a descending top-k held in `topS`/`topI` (k = their length) with `size` entries; returns the new
 * size. An entry passes another only on a strictly higher score, so with candidates offered in tie-break order the
 * earlier one wins a tie.
 */
export function offerTop(topS: Float64Array, topI: Int32Array, size: number, s: number, i: number): number {
  const k = topS.length;
  if (size === k && s <= topS[k - 1]!) return size;
  let j = size < k ? size++ : k - 1;
  while (j > 0 && topS[j - 1]! < s) {
    topS[j] = topS[j - 1]!;
    topI[j] = topI[j - 1]!;
    j--;
  }
  topS[j] = s;
  topI[j] = i;
  return size;
}
