// The relations Gold SQL reads, and the datasets behind each (the catalogue derives a dataset's inputs from them):
//   s_<short>      Silver tables cut at the as-of date (silver-inputs.ts), s_universe and s_crosswalk, and
//                  s_first_day_<short> (a table's first event date)
//   g_<shared>     relations several datasets of a job share, computed once per job (SHARED_RELATIONS)
//   g_<prepared>   intelligence outputs a job registers before its datasets (intelligence-inputs.ts)
import { SILVER_TABLES } from './silver-inputs.ts';

/**
 * Relations several datasets of a job read, computed once as temp tables g_<name>, in this order (a relation may read
 * the ones before it; a dataset using it lists both). None today: what the behaviour datasets shared (events per
 * person and day, touches per day) is now the daily aggregates, maintained across runs.
 */
export const SHARED_RELATIONS: Record<string, string> = {};

/** Datasets behind each s_<view>. */
export const SILVER_VIEWS: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(SILVER_TABLES).map(([short, table]) => [short, [table.toLowerCase()]])),
  // s_first_day_<short>: a table's first event date (from its state's partitions)
  ...Object.fromEntries(Object.entries(SILVER_TABLES).map(([short, table]) => [`first_day_${short}`, [table.toLowerCase()]])),
  universe: ['customers', 'customer_transactions'],
  crosswalk: ['identity_crosswalk', 'customers', 'customer_transactions'],
};

/** Datasets behind the g_<name> relations prepared before a job's datasets: the daily aggregates and what registerRecommendationInputs registers. */
export const PREPARED_RELATIONS: Record<string, readonly string[]> = {
  // the daily aggregates (daily-aggregates.ts), cut at the as-of date
  customer_daily: ['customer_daily'],
  customer_touchpoint_daily: ['customer_touchpoint_daily'],
  // its last 90 days (the profile's windows), and the lifetime totals kept with the aggregates (lifetime.ts)
  customer_daily_recent: ['customer_daily'],
  customer_lifetime: ['customer_lifetime'],
  customer_touchpoint_lifetime: ['customer_touchpoint_lifetime'],
  // per person and channel the latest consent evidence, kept with consent_evidence_daily (registered once it is maintained)
  consent_lifetime: ['consent_lifetime'],
  recs: ['product_recommendations'],
  recs_history: ['product_recommendations'],
  registry: ['model_registry'],
};
