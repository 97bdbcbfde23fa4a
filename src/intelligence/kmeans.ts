// k-means with k-means++ seeding from a fixed seed, best of several restarts by inertia: reproducible clusters.
import { seededRandom } from './math.ts';

export interface KMeansResult {
  centroids: number[][];
  assignment: number[];
  inertia: number;
  iterations: number;
}

function dist2(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

function nearest(x: readonly number[], centroids: readonly number[][]): [number, number] {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const d = dist2(x, centroids[c]!);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return [best, bestD];
}

function runOnce(X: readonly number[][], k: number, rand: () => number, maxIterations: number): KMeansResult {
  const centroids: number[][] = [[...X[Math.floor(rand() * X.length)]!]];
  const d2 = X.map((x) => dist2(x, centroids[0]!));
  while (centroids.length < k) {
    const total = d2.reduce((s, v) => s + v, 0);
    let pick = 0;
    if (total > 0) {
      let u = rand() * total;
      for (; pick < X.length - 1; pick++) {
        u -= d2[pick]!;
        if (u <= 0) break;
      }
    } else pick = Math.floor(rand() * X.length);
    centroids.push([...X[pick]!]);
    for (let i = 0; i < X.length; i++) d2[i] = Math.min(d2[i]!, dist2(X[i]!, centroids[centroids.length - 1]!));
  }
  const assignment = new Array<number>(X.length).fill(-1);
  let it = 0;
  for (; it < maxIterations; it++) {
    let changed = false;
    for (let i = 0; i < X.length; i++) {
      const [c] = nearest(X[i]!, centroids);
      if (c !== assignment[i]) {
        assignment[i] = c;
        changed = true;
      }
    }
    const dim = X[0]!.length;
    const sums = Array.from({ length: k }, () => new Array<number>(dim).fill(0));
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < X.length; i++) {
      counts[assignment[i]!]!++;
      for (let j = 0; j < dim; j++) sums[assignment[i]!]![j]! += X[i]![j]!;
    }
    for (let c = 0; c < k; c++) if (counts[c]! > 0) centroids[c] = sums[c]!.map((s) => s / counts[c]!);
    if (!changed) break;
  }
  const inertia = X.reduce((s, x, i) => s + dist2(x, centroids[assignment[i]!]!), 0);
  return { centroids, assignment, inertia, iterations: it + 1 };
}

export function kMeans(X: readonly number[][], k: number, seed = 42, restarts = 5, maxIterations = 100): KMeansResult {
  if (X.length === 0) return { centroids: [], assignment: [], inertia: 0, iterations: 0 };
  const kk = Math.min(k, X.length);
  const rand = seededRandom(seed);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const res = runOnce(X, kk, rand, maxIterations);
    if (!best || res.inertia < best.inertia - 1e-9) best = res;
  }
  return best!;
}
