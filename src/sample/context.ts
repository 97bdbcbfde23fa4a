// What every part of the behaviour model shares: the time window, the catalogue, campaigns and the table sinks.
import type { Catalogue } from './catalogue.ts';
import type { TableSink } from './sink.ts';
import type { Location } from './reference-data.ts';
import { DAY, dayOfYear, weekday } from './time.ts';

export type SourceSystem = 'CRM' | 'ECOMMERCE' | 'POS' | 'MARKETING' | 'SUPPORT';
export const SOURCE_SYSTEMS: readonly SourceSystem[] = ['CRM', 'ECOMMERCE', 'POS', 'MARKETING', 'SUPPORT'];
export const SYSTEM_PREFIX: Record<SourceSystem, string> = { CRM: 'CRM', ECOMMERCE: 'ECM', POS: 'POS', MARKETING: 'MKT', SUPPORT: 'SUP' };

export interface Window {
  /** Epoch second of the first day 00:00 UTC. */
  start: number;
  /** Epoch second of the last day 23:59:59 UTC. */
  end: number;
}

export interface Campaign {
  id: string;
  name: string;
  channel: 'EMAIL' | 'SMS' | 'PUSH' | 'SOCIAL' | 'IN_APP';
  type: string;
  start: number;
  end: number;
  subject: string;
  reach: number;
  promoCode: string;
  /** Category the campaign promotes (conversions buy from it). */
  category: number;
}

export interface Sinks {
  CUSTOMERS: TableSink;
  MARKETING_CAMPAIGNS: TableSink;
  CUSTOMER_TRANSACTIONS: TableSink;
  CUSTOMER_TRANSACTION_ITEMS: TableSink;
  CUSTOMER_SESSION_DATA: TableSink;
  CUSTOMER_BEHAVIORAL_EVENTS: TableSink;
  CUSTOMER_ENGAGEMENT_EVENTS: TableSink;
  CUSTOMER_PREFERENCE_DATA: TableSink;
  CUSTOMER_SERVICE_TICKETS: TableSink;
  CUSTOMER_SERVICE_INTERACTIONS: TableSink;
  EXTERNAL_CUSTOMER_PROFILES: TableSink;
  EXTERNAL_CUSTOMER_SENTIMENT: TableSink;
}

export interface World {
  window: Window;
  catalogue: Catalogue;
  campaigns: readonly Campaign[];
  sinks: Sinks;
  stores: readonly string[][];
}

export interface CustomerRecord {
  system: SourceSystem;
  id: string;
}

export interface Person {
  index: number;
  personId: string;
  gender: 'M' | 'F';
  first: string;
  last: string;
  dob: number;
  location: Location;
  locationIndex: number;
  street: string;
  streetType: number;
  houseNumber: number;
  unit: string | null;
  zip: string;
  /** National significant number digits (area code + subscriber). */
  phone: string;
  email: string;
  registration: number;
  // Behaviour.
  shopper: 'store' | 'online' | 'omni';
  storeShare: number;
  device: 'DESKTOP' | 'MOBILE' | 'TABLET';
  /** Purchases per day while alive. */
  rate: number;
  kind: 'regular' | 'one-off' | 'non-buyer';
  churnAt: number | null;
  engagement: number;
  /** Mood 1..5: drives satisfaction and sentiment (churners are unhappy before they leave). */
  mood: number;
  affinity: number[];
  favourites: number[];
  favouriteBrand: string;
  size: string;
  loyaltyMember: boolean;
  marketingOptIn: boolean;
  records: CustomerRecord[];
}

/** Expected demand multiplier at a time: weekly rhythm times a yearly one (holiday peak, summer sale). */
const WEEKLY = [1.15, 0.85, 0.85, 0.9, 0.95, 1.1, 1.3];
export const MAX_SEASON = 1.3 * 1.6;
export function season(sec: number): number {
  const doy = dayOfYear(sec);
  const holiday = 0.55 * Math.exp(-(((doy - 340) / 22) ** 2)) + 0.3 * Math.exp(-(((doy - 330) / 4) ** 2));
  const summer = 0.15 * Math.exp(-(((doy - 190) / 18) ** 2));
  return WEEKLY[weekday(sec)]! * (0.95 + holiday + summer);
}

/** Seconds into a day for an activity (store opening hours, or online with an evening peak). */
const STORE_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 6, 8, 7, 6, 6, 7, 8, 8, 6, 4, 2, 0, 0];
const ONLINE_HOURS = [2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 4, 5, 6, 5, 5, 5, 5, 6, 7, 9, 10, 9, 7, 4];
export function timeOfDay(rng: { weighted(w: readonly number[]): number; int(a: number, b: number): number }, store: boolean): number {
  return rng.weighted(store ? STORE_HOURS : ONLINE_HOURS) * 3600 + rng.int(0, 3599);
}

export function dayStart(sec: number): number {
  return Math.floor(sec / DAY) * DAY;
}

/** The customer record a kind of fact is filed under: the person's record in the system that produced it. */
export function recordFor(person: Person, ...systems: SourceSystem[]): string {
  for (const s of systems) {
    const r = person.records.find((x) => x.system === s);
    if (r) return r.id;
  }
  return person.records[0]!.id;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
