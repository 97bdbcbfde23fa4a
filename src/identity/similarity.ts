// String similarity functions as DuckDB computes them (jaro_winkler_similarity, damerau_levenshtein), for scoring a
// stream batch in TypeScript (score-pairs.ts). test/identity-ts-path.test.ts holds them equal to DuckDB's on many pairs.

/** Jaro similarity as DuckDB's jaro_winkler library computes it (matches within the window, half transpositions floored). */
export function jaro(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const bound = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const matchedB = new Uint8Array(lb);
  const matchA: number[] = [];
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - bound);
    const hi = Math.min(lb - 1, i + bound);
    for (let j = lo; j <= hi; j++) {
      if (!matchedB[j] && a.charCodeAt(i) === b.charCodeAt(j)) {
        matchedB[j] = 1;
        matchA.push(i);
        break;
      }
    }
  }
  const common = matchA.length;
  if (common === 0) return 0;
  let k = 0;
  let transpositions = 0;
  for (let j = 0; j < lb; j++) {
    if (!matchedB[j]) continue;
    if (a.charCodeAt(matchA[k]!) !== b.charCodeAt(j)) transpositions++;
    k++;
  }
  const t = Math.floor(transpositions / 2);
  let sim = 0;
  sim += common / la;
  sim += common / lb;
  sim += (common - t) / common;
  return sim / 3.0;
}

/** Jaro-Winkler: a common prefix of up to 4 characters raises a Jaro similarity above 0.7 (prefix weight 0.1). */
export function jaroWinkler(a: string, b: string): number {
  const max = Math.min(a.length, b.length, 4);
  let prefix = 0;
  while (prefix < max && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  let sim = jaro(a, b);
  if (sim > 0.7) sim += prefix * 0.1 * (1.0 - sim);
  return sim;
}

/** Damerau-Levenshtein distance with unrestricted transpositions (DuckDB's damerau_levenshtein). */
let table = new Int32Array(0);
const lastRow = new Map<number, number>();
export function damerauLevenshtein(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0) return lb;
  if (lb === 0) return la;
  const maxDist = la + lb;
  const w = lb + 2;
  // One scratch table reused across calls (the comparisons call this for every pair).
  if (table.length < (la + 2) * w) table = new Int32Array((la + 2) * w * 2);
  const d = table;
  lastRow.clear();
  d[0] = maxDist;
  for (let i = 0; i <= la; i++) {
    d[(i + 1) * w] = maxDist;
    d[(i + 1) * w + 1] = i;
  }
  for (let j = 0; j <= lb; j++) {
    d[j + 1] = maxDist;
    d[w + j + 1] = j;
  }
  for (let i = 1; i <= la; i++) {
    let db = 0;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const i1 = lastRow.get(cb) ?? 0;
      const j1 = db;
      const cost = ca === cb ? 0 : 1;
      if (cost === 0) db = j;
      d[(i + 1) * w + j + 1] = Math.min(
        d[i * w + j]! + cost,
        d[(i + 1) * w + j]! + 1,
        d[i * w + j + 1]! + 1,
        d[i1 * w + j1]! + (i - i1 - 1) + 1 + (j - j1 - 1),
      );
    }
    lastRow.set(ca, i);
  }
  return d[(la + 1) * w + lb + 1]!;
}
