// Pairwise precision / recall / F1 of a clustering against truth clusters, over all record pairs.
import type { Engine } from '../engine/duckdb.ts';

export interface PairwiseScore {
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  f1: number;
}

/** `predicted` and `truth` are tables/queries with columns (rid, cluster). */
export async function pairwiseScore(engine: Engine, predicted: string, truth: string): Promise<PairwiseScore> {
  const row = (
    await engine.all<Record<string, string | number>>(`
WITH p AS (SELECT rid, CAST(cluster AS VARCHAR) AS c FROM ${predicted}),
     t AS (SELECT rid, CAST(cluster AS VARCHAR) AS c FROM ${truth}),
     j AS (SELECT p.c AS pc, t.c AS tc FROM p JOIN t USING (rid))
SELECT
  (SELECT coalesce(sum(k * (k - 1) / 2), 0) FROM (SELECT count(*) AS k FROM j GROUP BY tc)) AS true_pairs,
  (SELECT coalesce(sum(k * (k - 1) / 2), 0) FROM (SELECT count(*) AS k FROM j GROUP BY pc)) AS predicted_pairs,
  (SELECT coalesce(sum(k * (k - 1) / 2), 0) FROM (SELECT count(*) AS k FROM j GROUP BY pc, tc)) AS correct_pairs`)
  )[0]!;
  const truePairs = Number(row.true_pairs);
  const predictedPairs = Number(row.predicted_pairs);
  const correctPairs = Number(row.correct_pairs);
  const precision = predictedPairs ? correctPairs / predictedPairs : 1;
  const recall = truePairs ? correctPairs / truePairs : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { truePairs, predictedPairs, correctPairs, precision, recall, f1 };
}
