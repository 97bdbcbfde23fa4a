// Customer-intelligence activities of the Gold sub-pipeline (feature snapshots, CLV, churn, segments,
// recommendations), kept apart from the descriptive Gold datasets in gold.ts.
import type { Activity } from './ir.ts';

export const intelligenceActivities: Activity[] = [];
