// The relations Gold SQL reads, and the datasets behind each (the catalogue derives a dataset's inputs from them):
//   s_<short>      Silver tables cut at the as-of date (silver-inputs.ts), s_universe and s_crosswalk
//   g_<shared>     relations several datasets of a job share, computed once per job (SHARED_RELATIONS)
//   g_<prepared>   intelligence outputs a job registers before its datasets (intelligence-inputs.ts)
import { EVENTS_DAY_SQL, TOUCH_DAYS_SQL } from './behavior.ts';
import { SILVER_TABLES } from './silver-inputs.ts';

/**
 * Relations several datasets of a job read, computed once as temp tables g_<name>, in this order (a relation may read
 * the ones before it: touch_days reads events_day; a dataset using it lists both).
 */
export const SHARED_RELATIONS: Record<string, string> = { events_day: EVENTS_DAY_SQL, touch_days: TOUCH_DAYS_SQL };

/** Datasets behind each s_<view>. */
export const SILVER_VIEWS: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(SILVER_TABLES).map(([short, table]) => [short, [table.toLowerCase()]])),
  universe: ['customers', 'customer_transactions'],
  crosswalk: ['identity_crosswalk', 'customers', 'customer_transactions'],
};

/** Datasets behind the g_<name> relations registerRecommendationInputs prepares. */
export const PREPARED_RELATIONS: Record<string, readonly string[]> = {
  recs: ['product_recommendations'],
  recs_history: ['product_recommendations'],
  registry: ['model_registry'],
};
