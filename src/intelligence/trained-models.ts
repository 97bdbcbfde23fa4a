// Model training on its own schedule. A training run stores what it fitted (the model objects as JSON, and their
// registry records) in gold/models/<job>/trained.json; the runs in between score with the stored models instead of
// fitting again, which is most of an intelligence job's work (churn trains on six past snapshots, the recommender
// tunes its blend on a past split). A run trains when asked (`train=true`, a full refresh), when nothing is stored,
// when the stored models were trained for another horizon, when its as-of date is before their training date (a
// backfill must not score with a model that saw later data), or when they are `trainEveryDays` or more days old.
import { UsageError } from '../runtime/errors.ts';
import type { JobContext, JobParamSpec } from '../runtime/job.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { truthy } from '../silver/incremental.ts';
import type { ModelRecord } from './registry.ts';

export const MODELS_ROOT = 'gold/models';
export const DEFAULT_TRAIN_EVERY_DAYS = 7;

export const TRAIN_PARAMS: readonly JobParamSpec[] = [
  { name: 'trainEveryDays', description: `Retrain when the stored models are this many days older than the as-of date (default ${DEFAULT_TRAIN_EVERY_DAYS})`, type: { kind: 'int', min: 1, max: 3650 } },
  { name: 'train', description: "'true': train now whatever the schedule says", type: { kind: 'bool' } },
  { name: 'fullRefresh', description: "'true' (a full refresh): train", type: { kind: 'bool' } },
];

export type StoredModels<T, X extends object = object> = StoredModelsOf<T> & X;

interface StoredModelsOf<T> {
  /** As-of date of the training run. */
  trainedAsOf: string;
  horizonDays: number;
  /** The fitted model objects (plain JSON). */
  models: T;
  /** Their registry records (what rows scored with them name as MODEL_VERSION). */
  records: ModelRecord[];
}

const storedPath = (job: string) => joinLake(MODELS_ROOT, job, 'trained.json');

export async function readStored<T, X extends object = object>(lake: Lake, job: string): Promise<StoredModels<T, X> | undefined> {
  const p = storedPath(job);
  if (!(await lake.exists(p))) return undefined;
  return JSON.parse((await lake.read(p)).toString('utf8')) as StoredModels<T, X>;
}

/** Stores a training run's models (one atomic write; a crash before it leaves the previous models). */
export async function writeStored<T, X extends object = object>(ctx: JobContext, job: string, s: StoredModels<T, X>): Promise<void> {
  await ctx.lake.write(storedPath(job), JSON.stringify(s));
  ctx.report.outputs.push(storedPath(job));
}

const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

export interface TrainDecision {
  train: boolean;
  reason: string;
}

/** Whether this run trains (see the header), and why. */
export function trainDecision(params: Record<string, string>, stored: StoredModels<unknown> | undefined, asOf: string, horizonDays: number): TrainDecision {
  const raw = params.trainEveryDays ?? '';
  const every = raw === '' ? DEFAULT_TRAIN_EVERY_DAYS : Number(raw);
  if (!Number.isInteger(every) || every < 1) throw new UsageError(`trainEveryDays must be a whole number of days >= 1, got '${raw}'`);
  if (truthy(params.train)) return { train: true, reason: 'train=true' };
  if (truthy(params.fullRefresh)) return { train: true, reason: 'full refresh' };
  if (!stored) return { train: true, reason: 'no stored models' };
  if (stored.horizonDays !== horizonDays) return { train: true, reason: `stored models are for a ${stored.horizonDays}-day horizon` };
  const age = dayNumber(asOf) - dayNumber(stored.trainedAsOf);
  if (age < 0) return { train: true, reason: `as-of date before the stored models' training date ${stored.trainedAsOf}` };
  if (age >= every) return { train: true, reason: `stored models are ${age} days old (retrain every ${every})` };
  return { train: false, reason: `scoring with models trained as of ${stored.trainedAsOf} (${age} days ago, retrain every ${every})` };
}
