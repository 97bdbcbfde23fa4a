// The catalogue: every Silver, identity, Gold and intelligence dataset, declared once. Add a dataset by declaring it
// next to its compute (src/gold/*.ts, src/intelligence/datasets.ts, src/silver/datasets.ts) and listing it here;
// the warehouse model, the pipeline's activity dependencies and docs/datasets.md follow.
import { aggCustomerActivity, aggFunnelDaily, aggTouchpointActivity, dimSession, dimTime, dimTouchpoint, factBehavioralEvents } from '../gold/behavior.ts';
import { campaignAttribution, campaignChannelPerformance, campaignRoi } from '../gold/campaigns.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { DAILY_AGGREGATES, LIFETIMES } from '../gold/daily-aggregates.ts';
import { customerIdentityMap, dimDate, dimProduct, factCustomerInteractions, factTransactions, productDaily, serviceSummary } from '../gold/customer-datasets.ts';
import { dimContent, dimRecommendation, factPersonalizationEvents } from '../gold/personalization.ts';
import { customerPreferences, factTransactionItems } from '../gold/sales-and-preferences.ts';
import { PREPARED_RELATIONS, SHARED_RELATIONS, SILVER_VIEWS } from '../gold/relations.ts';
import { consentEvidenceDaily, consentLifetime, customerConsent } from '../privacy/consent.ts';
import { INTELLIGENCE_DATASETS } from '../intelligence/datasets.ts';
import { MODEL_AGGREGATES } from '../intelligence/daily-inputs.ts';
import { SILVER_DATASETS } from '../silver/datasets.ts';
import { ACTIVATION_DATASETS } from '../activation/datasets.ts';
import type { Dataset } from './dataset.ts';

export type { Dataset } from './dataset.ts';

export const GOLD_SQL_DATASETS: readonly Dataset[] = [
  // consent first: the profile reads it (kept as g_customer_consent); its evidence by day before it
  consentEvidenceDaily, customerConsent, customerProfile, customerIdentityMap, factTransactions, factCustomerInteractions, productDaily, dimProduct, dimDate, serviceSummary,
  factTransactionItems, customerPreferences,
  factBehavioralEvents, dimSession, dimTouchpoint, dimTime, aggCustomerActivity, aggTouchpointActivity, aggFunnelDaily,
  campaignAttribution, campaignChannelPerformance, campaignRoi,
  dimContent, dimRecommendation, factPersonalizationEvents,
];

const SAMPLE_PARAMS = { asOf: '2000-01-01', attributionWindowDays: 7 };

/** Dataset names a SQL relation reads: s_<view> Silver views, g_<name> shared/prepared relations and kept datasets. */
function relationInputs(sql: string, sameJob: readonly Dataset[], where: string, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const [, v] of sql.matchAll(/\bs_(\w+)\b/g)) {
    const inputs = SILVER_VIEWS[v!];
    if (!inputs) throw new Error(`${where}: reads s_${v}, which is not a Silver view the runner registers`);
    out.push(...inputs);
  }
  for (const [, g] of sql.matchAll(/\bg_(\w+)\b/g)) {
    if (seen.has(g!)) continue;
    seen.add(g!);
    if (SHARED_RELATIONS[g!]) out.push(...relationInputs(SHARED_RELATIONS[g!]!, sameJob, where, seen));
    else if (PREPARED_RELATIONS[g!]) out.push(...PREPARED_RELATIONS[g!]!);
    else if (sameJob.some((d) => d.name === g && d.keep)) out.push(g!);
    else throw new Error(`${where}: reads g_${g}, which is neither a shared relation, a prepared input nor a kept dataset of its job`);
  }
  return out;
}

/** A SQL dataset's inputs: what its SQL reads (derived, so never listed by hand) plus any it declares. */
function withDerivedInputs(ds: Dataset, all: readonly Dataset[]): Dataset {
  if (!ds.sql) return ds;
  const sameJob = all.filter((d) => d.job === ds.job);
  const derived = relationInputs(ds.sql(SAMPLE_PARAMS), sameJob, `dataset ${ds.name}`);
  return { ...ds, inputs: [...new Set([...ds.inputs, ...derived])].sort() };
}

const DECLARED: readonly Dataset[] = [...SILVER_DATASETS, ...DAILY_AGGREGATES, ...LIFETIMES, consentLifetime, ...GOLD_SQL_DATASETS, ...MODEL_AGGREGATES, ...INTELLIGENCE_DATASETS, ...ACTIVATION_DATASETS];

export const CATALOGUE: readonly Dataset[] = DECLARED.map((d) => withDerivedInputs(d, DECLARED));

const BY_NAME = new Map(CATALOGUE.map((d) => [d.name, d]));
if (BY_NAME.size !== CATALOGUE.length) throw new Error('Two catalogue datasets share a name');
for (const d of CATALOGUE) {
  for (const i of d.inputs) if (!BY_NAME.has(i)) throw new Error(`Dataset ${d.name} reads unknown dataset '${i}'`);
  const names = d.columns.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new Error(`Dataset ${d.name} declares a column twice`);
  for (const k of d.primaryKey) if (!names.includes(k)) throw new Error(`Dataset ${d.name}: key column ${k} is not declared`);
}

export function getDataset(name: string): Dataset {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`Unknown dataset '${name}'`);
  return d;
}

/** The jobs that write a dataset (several for one written in parts). */
export function producersOf(d: Dataset): string[] {
  return d.parts ? [...new Set(Object.values(d.parts))] : [d.job];
}

/** Datasets a job writes, in declaration order. */
export function datasetsOfJob(job: string): Dataset[] {
  return CATALOGUE.filter((d) => producersOf(d).includes(job));
}

/** Jobs whose outputs the given job reads (its upstream jobs), from the declared and derived inputs. */
export function upstreamJobs(job: string): string[] {
  const out = new Set<string>();
  for (const d of datasetsOfJob(job)) {
    for (const i of d.inputs) for (const p of producersOf(getDataset(i))) if (p !== job) out.add(p);
  }
  return [...out].sort();
}
