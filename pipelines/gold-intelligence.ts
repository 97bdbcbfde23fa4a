// Customer-intelligence activities of the Gold sub-pipeline (feature snapshots, CLV, churn, segments,
// recommendations), kept apart from the descriptive Gold datasets in gold.ts. The features job keeps the model
// aggregates (src/intelligence/daily-inputs.ts) and writes the snapshot; scores, segments and recommendations read
// them (a training run of scores or recommendations loads Silver up to the as-of date); the catalogue orders them.
import { featuresJob } from '../jobs/gold-intelligence-features.ts';
import { recommendationsJob } from '../jobs/gold-intelligence-recommendations.ts';
import { scoresJob } from '../jobs/gold-intelligence-scores.ts';
import { segmentsJob } from '../jobs/gold-intelligence-segments.ts';
import type { Activity } from './ir.ts';

const params = { horizonDays: '{{horizonDays}}' };
/** The models train on their own schedule (src/intelligence/trained-models.ts); a full refresh trains. */
const training = { ...params, trainEveryDays: '{{trainEveryDays}}', fullRefresh: '{{fullRefresh}}' };

export const intelligenceActivities: Omit<Activity, 'dependsOn'>[] = [
  { name: 'intelligence_features', description: 'Versioned feature snapshot as of the as-of date', job: featuresJob, params: { ...params, fullRefresh: '{{fullRefresh}}' } },
  { name: 'intelligence_scores', description: 'CLV (BG/NBD + Gamma-Gamma) and churn risk', job: scoresJob, params: training },
  { name: 'intelligence_segments', description: 'RFM + k-means segments and profiles', job: segmentsJob },
  { name: 'intelligence_recommendations', description: 'Hybrid product recommendations and baselines', job: recommendationsJob, params: training },
];
