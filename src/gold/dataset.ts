// A Gold dataset: a name (its lake folder) and the SQL that computes it from the s_* inputs as of a date.
export interface GoldParams {
  asOf: string;
  /** Days before a conversion in which a campaign touch can earn credit. */
  attributionWindowDays: number;
}

export interface GoldDataset {
  name: string;
  description: string;
  sql(p: GoldParams): string;
  /** Kept as temp table g_<name> after writing, for datasets computed later in the same job. */
  keep?: boolean;
  /** Shared relations (SHARED_RELATIONS) the SQL reads as g_<name>; computed once per job. */
  uses?: readonly string[];
}

export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7;

/** Feature windows of the profile, in days (a day d is in the N-day window when asOf - d < N). */
export const WINDOWS = [7, 30, 90] as const;

/** The predicate marking a purchase that counts: a completed PURCHASE transaction. */
export const IS_PURCHASE = "TRANSACTION_TYPE = 'PURCHASE' AND TRANSACTION_STATUS = 'COMPLETED'";
export const IS_RETURN = "TRANSACTION_TYPE IN ('RETURN', 'REFUND') AND TRANSACTION_STATUS = 'COMPLETED'";
