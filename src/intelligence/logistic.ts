// L2-regularised logistic regression fitted by Newton's method (IRLS) on standardised features, and Platt scaling
// to calibrate its scores into probabilities on data it was not trained on.
import { sigmoid } from './math.ts';

export interface Standardizer {
  mean: number[];
  std: number[];
}

export function fitStandardizer(X: readonly number[][]): Standardizer {
  const d = X[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of X) for (let j = 0; j < d; j++) mean[j]! += x[j]! / X.length;
  for (const x of X) for (let j = 0; j < d; j++) std[j]! += (x[j]! - mean[j]!) ** 2 / X.length;
  // A constant column standardises to 0 rather than NaN.
  return { mean, std: std.map((v) => (v > 1e-12 ? Math.sqrt(v) : 1)) };
}

export function standardize(s: Standardizer, x: readonly number[]): number[] {
  return x.map((v, j) => (v - s.mean[j]!) / s.std[j]!);
}

export interface LogisticModel {
  /** Intercept first, then one weight per (standardised) feature. */
  weights: number[];
  iterations: number;
}

/** Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    if (Math.abs(piv) < 1e-300) throw new Error('logistic regression: singular Hessian');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      if (f !== 0) for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

/**
 * Fits P(y=1|x) = sigmoid(w0 + w.x); `l2` penalises the weights but not the intercept. The rows are copied once into
 * one Float64Array (intercept column included), so a Newton step allocates nothing per row.
 */
export function fitLogistic(X: readonly number[][], y: readonly (0 | 1)[], l2 = 1, maxIterations = 50): LogisticModel {
  if (X.length === 0) throw new Error('logistic regression: no training rows');
  const n = X.length;
  const d = X[0]!.length + 1;
  const M = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = X[i]!;
    M[i * d] = 1;
    for (let j = 1; j < d; j++) M[i * d + j] = row[j - 1]!;
  }
  let w = new Array<number>(d).fill(0);
  const pos = y.reduce<number>((s, v) => s + v, 0);
  w[0] = Math.log((pos + 0.5) / (y.length - pos + 0.5));
  const g = new Float64Array(d);
  const Hf = new Float64Array(d * d);
  let it = 0;
  for (; it < maxIterations; it++) {
    g.fill(0);
    Hf.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let z = 0;
      for (let j = 0; j < d; j++) z += w[j]! * M[o + j]!;
      const p = sigmoid(z);
      const r = p * (1 - p);
      const e = p - y[i]!;
      for (let j = 0; j < d; j++) {
        const xj = M[o + j]!;
        g[j]! += e * xj;
        const rx = r * xj;
        for (let k = j; k < d; k++) Hf[j * d + k]! += rx * M[o + k]!;
      }
    }
    const H = Array.from({ length: d }, (_, j) => Array.from({ length: d }, (_, k) => (k >= j ? Hf[j * d + k]! : Hf[k * d + j]!)));
    const grad = Array.from(g);
    for (let j = 1; j < d; j++) {
      grad[j]! += l2 * w[j]!;
      H[j]![j]! += l2;
    }
    H[0]![0]! += 1e-9;
    const step = solve(H, grad);
    w = w.map((v, j) => v - step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return { weights: w, iterations: it + 1 };
}

export function logit(m: LogisticModel, x: readonly number[]): number {
  let z = m.weights[0]!;
  for (let j = 0; j < x.length; j++) z += m.weights[j + 1]! * x[j]!;
  return z;
}

export interface PlattScaling {
  a: number;
  b: number;
}

/** Platt scaling: P = sigmoid(a * score + b) fitted on held-out (score, label) pairs. */
export function fitPlatt(scores: readonly number[], y: readonly (0 | 1)[]): PlattScaling {
  const m = fitLogistic(scores.map((s) => [s]), y, 1e-6);
  return { a: m.weights[1]!, b: m.weights[0]! };
}

export function applyPlatt(p: PlattScaling, score: number): number {
  return sigmoid(p.a * score + p.b);
}
