// Customer-intelligence activities of the Gold sub-pipeline (feature snapshots, CLV, churn, segments,
// recommendations), kept apart from the descriptive Gold datasets in gold.ts. Each job loads Silver up to the as-of
// date itself (the runner passes ctx.asOf), so the steps after the snapshot can run in parallel.
import { featuresJob } from '../jobs/gold-intelligence-features.ts';
import { recommendationsJob } from '../jobs/gold-intelligence-recommendations.ts';
import { scoresJob } from '../jobs/gold-intelligence-scores.ts';
import { segmentsJob } from '../jobs/gold-intelligence-segments.ts';
import type { Activity } from './ir.ts';

const params = { asOf: '{{asOf}}', horizonDays: '{{horizonDays}}' };

export const intelligenceActivities: Activity[] = [
  { name: 'intelligence_features', description: 'Versioned feature snapshot as of the as-of date', job: featuresJob, params },
  { name: 'intelligence_scores', description: 'CLV (BG/NBD + Gamma-Gamma) and churn risk', job: scoresJob, params, dependsOn: ['intelligence_features'] },
  { name: 'intelligence_segments', description: 'RFM + k-means segments and profiles', job: segmentsJob, params: { asOf: '{{asOf}}' }, dependsOn: ['intelligence_features'] },
  { name: 'intelligence_recommendations', description: 'Hybrid product recommendations and baselines', job: recommendationsJob, params, dependsOn: ['intelligence_features'] },
];
