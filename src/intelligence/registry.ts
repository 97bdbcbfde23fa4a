// The model registry: one row per trained model with a deterministic version (a hash of what defines the model:
// parameters, training window, feature snapshot version), so that analysts can see which model scored whom.
import { createHash } from 'node:crypto';

export interface ModelRecord {
  MODEL_NAME: string;
  MODEL_VERSION: string;
  MODEL_TYPE: string;
  TRAINED_AT: string;
  TRAINING_WINDOW_START: string;
  TRAINING_WINDOW_END: string;
  FEATURE_SNAPSHOT_VERSION: string;
  PARAMETERS_JSON: string;
  METRICS_JSON: string;
}

export const REGISTRY_COLUMNS = [
  ['MODEL_NAME', 'VARCHAR'],
  ['MODEL_VERSION', 'VARCHAR'],
  ['MODEL_TYPE', 'VARCHAR'],
  ['TRAINED_AT', 'TIMESTAMP'],
  ['TRAINING_WINDOW_START', 'DATE'],
  ['TRAINING_WINDOW_END', 'DATE'],
  ['FEATURE_SNAPSHOT_VERSION', 'VARCHAR'],
  ['PARAMETERS_JSON', 'VARCHAR'],
  ['METRICS_JSON', 'VARCHAR'],
] as const;

/** JSON with numbers rounded to 10 significant digits, so versions do not hinge on the last float bit. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' ? (Number.isFinite(x) ? Number(x.toPrecision(10)) : null) : x));
}

export function modelVersion(name: string, parts: { parameters: unknown; windowStart: string; windowEnd: string; featureSnapshotVersion: string }): string {
  const h = createHash('sha256').update(stableJson({ name, ...parts })).digest('hex').slice(0, 12);
  return `${name}-${h}`;
}

/**
 * TRAINED_AT is the model's logical training time, the as-of date at 00:00 UTC (a model trained as of D has seen data
 * through D): a re-run produces the same row, byte for byte. When a run happened is in its run manifest.
 */
export function trainedAt(asOf: string): string {
  return `${asOf} 00:00:00`;
}

export function modelRecord(o: {
  name: string;
  /** The as-of date the model was trained for (TRAINED_AT). */
  asOf: string;
  type: string;
  parameters: unknown;
  metrics: unknown;
  windowStart: string;
  windowEnd: string;
  featureSnapshotVersion: string;
}): ModelRecord {
  return {
    MODEL_NAME: o.name,
    MODEL_VERSION: modelVersion(o.name, { parameters: o.parameters, windowStart: o.windowStart, windowEnd: o.windowEnd, featureSnapshotVersion: o.featureSnapshotVersion }),
    MODEL_TYPE: o.type,
    TRAINED_AT: trainedAt(o.asOf),
    TRAINING_WINDOW_START: o.windowStart,
    TRAINING_WINDOW_END: o.windowEnd,
    FEATURE_SNAPSHOT_VERSION: o.featureSnapshotVersion,
    PARAMETERS_JSON: stableJson(o.parameters),
    METRICS_JSON: stableJson(o.metrics),
  };
}
