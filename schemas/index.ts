// Registry of the 12 source-table contracts, in dependency order (referenced tables first), and of the tables the
// collector (`c360 collect`) adds beside them.
import type { TableContract } from './contract.ts';
import { CUSTOMERS } from './customers.ts';
import { MARKETING_CAMPAIGNS } from './marketing-campaigns.ts';
import { CUSTOMER_TRANSACTIONS } from './customer-transactions.ts';
import { CUSTOMER_TRANSACTION_ITEMS } from './customer-transaction-items.ts';
import { CUSTOMER_SESSION_DATA } from './customer-session-data.ts';
import { CUSTOMER_BEHAVIORAL_EVENTS } from './customer-behavioral-events.ts';
import { CUSTOMER_ENGAGEMENT_EVENTS } from './customer-engagement-events.ts';
import { CUSTOMER_PREFERENCE_DATA } from './customer-preference-data.ts';
import { CUSTOMER_SERVICE_TICKETS } from './customer-service-tickets.ts';
import { CUSTOMER_SERVICE_INTERACTIONS } from './customer-service-interactions.ts';
import { EXTERNAL_CUSTOMER_PROFILES } from './external-customer-profiles.ts';
import { EXTERNAL_CUSTOMER_SENTIMENT } from './external-customer-sentiment.ts';
import { IDENTITY_LINKS } from './identity-links.ts';
import { ACCOUNT_MEMBERSHIP } from './account-membership.ts';

export * from './contract.ts';

export const CONTRACTS: readonly TableContract[] = [
  CUSTOMERS,
  MARKETING_CAMPAIGNS,
  CUSTOMER_TRANSACTIONS,
  CUSTOMER_TRANSACTION_ITEMS,
  CUSTOMER_SESSION_DATA,
  CUSTOMER_BEHAVIORAL_EVENTS,
  CUSTOMER_ENGAGEMENT_EVENTS,
  CUSTOMER_PREFERENCE_DATA,
  CUSTOMER_SERVICE_TICKETS,
  CUSTOMER_SERVICE_INTERACTIONS,
  EXTERNAL_CUSTOMER_PROFILES,
  EXTERNAL_CUSTOMER_SENTIMENT,
];

export const TABLE_NAMES = CONTRACTS.map((c) => c.name);

/**
 * Tables that only the collector produces (Segment identify/track/alias/group calls), not seed source tables: no drops
 * in the sample, but Bronze, quarantine, the stream and Silver treat them like any other contract.
 */
export const COLLECTED_CONTRACTS: readonly TableContract[] = [IDENTITY_LINKS, ACCOUNT_MEMBERSHIP];

/** Every contract: the 12 source tables, then the collected ones. */
export const ALL_CONTRACTS: readonly TableContract[] = [...CONTRACTS, ...COLLECTED_CONTRACTS];

export class UnknownTableError extends Error {
  constructor(name: string) {
    super(`Unknown table '${name}'. Valid tables: ${ALL_CONTRACTS.map((c) => c.name).join(', ')}`);
    this.name = 'UnknownTableError';
  }
}

/** Looks a contract up by table name (case-insensitive) or Bronze folder name. */
export function getContract(name: string): TableContract {
  const key = name.trim().toUpperCase();
  const found = ALL_CONTRACTS.find((c) => c.name === key || c.bronzeDir.toUpperCase() === key);
  if (!found) throw new UnknownTableError(name);
  return found;
}
