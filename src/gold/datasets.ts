// The Gold datasets by job: which job writes which dataset (and so which lake folders).
import { aggCustomerActivity, aggFunnelDaily, aggTouchpointActivity, dimSession, dimTime, dimTouchpoint, factBehavioralEvents } from './behavior.ts';
import { campaignAttribution, campaignChannelPerformance, campaignRoi } from './campaigns.ts';
import { customerProfile } from './customer-profile.ts';
import { customerIdentityMap, dimDate, dimProduct, factCustomerInteractions, factTransactions, serviceSummary } from './customer-datasets.ts';
import type { GoldDataset } from './dataset.ts';
import { dimContent, dimRecommendation, factPersonalizationEvents } from './personalization.ts';

export const CUSTOMER_DATASETS: readonly GoldDataset[] = [
  customerProfile, customerIdentityMap, factTransactions, factCustomerInteractions, dimProduct, dimDate, serviceSummary,
];
export const BEHAVIOR_DATASETS: readonly GoldDataset[] = [
  factBehavioralEvents, dimSession, dimTouchpoint, dimTime, aggCustomerActivity, aggTouchpointActivity, aggFunnelDaily,
];
export const CAMPAIGN_DATASETS: readonly GoldDataset[] = [campaignAttribution, campaignChannelPerformance, campaignRoi];
export const PERSONALIZATION_DATASETS: readonly GoldDataset[] = [dimContent, dimRecommendation, factPersonalizationEvents];

export const ALL_GOLD_DATASETS = [...CUSTOMER_DATASETS, ...BEHAVIOR_DATASETS, ...CAMPAIGN_DATASETS, ...PERSONALIZATION_DATASETS];
