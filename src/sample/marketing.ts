// Campaigns, the engagement funnel and stated/inferred preferences. Per customer and campaign the funnel runs
// SENT > DELIVERED > OPENED > CLICKED in time order, each step taken by fewer people; a click can convert into a real
// purchase (CONVERSION_RESULT = PURCHASE on the CLICKED row, and a COMPLETED transaction with the campaign's promotion
// code shortly after, in a session attributed to the campaign). People who churned still receive but rarely open.
import type { PlannedPurchase } from './commerce.ts';
import { clamp, recordFor, type Campaign, type Person, type World } from './context.ts';
import type { Rng } from './prng.ts';
import { STAFF_NAMES } from './reference-data.ts';
import type { TableSink } from './sink.ts';
import { DAY, dayOfYear, MINUTE } from './time.ts';

const CHANNELS: readonly Campaign['channel'][] = ['EMAIL', 'SMS', 'PUSH', 'SOCIAL', 'IN_APP'];
const CHANNEL_WEIGHTS = [40, 15, 15, 15, 15];

function theme(sec: number, category: string): string {
  const doy = dayOfYear(sec);
  if (doy >= 320 && doy < 335) return 'Black Friday';
  if (doy >= 335) return 'Holiday Gifts';
  if (doy < 40) return 'New Year Sale';
  if (doy >= 75 && doy < 140) return 'Spring Sale';
  if (doy >= 160 && doy < 215) return 'Summer Sale';
  if (doy >= 215 && doy < 250) return 'Back to School';
  return `${category} Week`;
}

/** Campaigns every week or two across the window (a few started before it, a few planned after it). */
export function makeCampaigns(rng: Rng, world: Pick<World, 'window' | 'catalogue'>, sink: TableSink): Campaign[] {
  const { window, catalogue } = world;
  const out: Campaign[] = [];
  for (let t = window.start - 30 * DAY; t < window.end + 20 * DAY; t += rng.int(5, 12) * DAY) {
    const channelIndex = rng.weighted(CHANNEL_WEIGHTS);
    const multi = rng.chance(0.1);
    const channel = multi ? 'EMAIL' : CHANNELS[channelIndex]!;
    const category = rng.weighted(catalogue.categoryWeights);
    const id = sink.nextId();
    const start = t;
    const end = start + rng.int(7, 30) * DAY;
    const name = `${theme(start, catalogue.categories[category]!)} ${new Date(start * 1000).getUTCFullYear()} - ${multi ? 'Multi-channel' : channel}`;
    const audience = rng.pick(['All subscribers', 'Lapsed customers', 'Loyalty members', 'New customers', `${catalogue.categories[category]} shoppers`]);
    const budget = rng.int(50, 1500) * 100;
    const status = start > window.end ? 'PLANNED' : end < window.end ? (rng.chance(0.04) ? 'CANCELLED' : 'COMPLETED') : rng.chance(0.08) ? 'PAUSED' : 'ACTIVE';
    const elapsed = clamp((window.end - start) / (end - start), 0, 1);
    const spent = status === 'PLANNED' ? 0 : Math.floor(budget * elapsed * rng.uniform(status === 'CANCELLED' ? 0.2 : 0.75, 1));
    const campaign: Campaign = {
      id, name, channel, type: multi ? 'MULTI_CHANNEL' : channel, start, end,
      subject: `${theme(start, catalogue.categories[category]!)}: up to ${rng.pick([15, 20, 25, 30, 40])}% off ${catalogue.categories[category]}`,
      reach: rng.uniform(0.25, 0.6), promoCode: `PR-${id}`, category,
    };
    sink.add({
      CAMPAIGN_ID: id,
      CAMPAIGN_NAME: name,
      CAMPAIGN_TYPE: campaign.type,
      START_DATE: start,
      END_DATE: end,
      BUDGET: budget,
      SPENT_AMOUNT: spent,
      TARGET_AUDIENCE: audience,
      CAMPAIGN_STATUS: status,
      CREATED_BY: rng.pick(STAFF_NAMES),
    });
    if (status !== 'PLANNED' && status !== 'CANCELLED') out.push(campaign);
  }
  return out;
}

const alive = (p: Person, t: number) => p.churnAt === null || t < p.churnAt;

/** Engagement rows of a person; returns the purchases their clicks converted into. */
export function emitEngagement(person: Person, rng: Rng, world: World): { conversions: PlannedPurchase[]; unsubscribed: boolean } {
  const { window, sinks, campaigns } = world;
  const sink = sinks.CUSTOMER_ENGAGEMENT_EVENTS;
  const conversions: PlannedPurchase[] = [];
  if (!person.marketingOptIn) return { conversions, unsubscribed: false };
  const customerId = recordFor(person, 'MARKETING', 'CRM');
  const hasApp = person.device === 'MOBILE' || person.storeShare < 0.6;
  const smsOptIn = person.index % 3 !== 0;
  let unsubscribed = false;
  for (const c of campaigns) {
    if (unsubscribed) break;
    if ((c.channel === 'SMS' && !smsOptIn) || ((c.channel === 'PUSH' || c.channel === 'IN_APP') && !hasApp)) continue;
    const sentAt = Math.max(c.start, window.start) + Math.floor(rng.uniform(0, Math.min(3 * DAY, c.end - c.start)));
    if (sentAt > window.end || sentAt < person.registration || !rng.chance(c.reach)) continue;
    const interest = person.favourites.includes(c.category) ? 1.4 : 1;
    const row = (action: string, at: number, extra: Record<string, string | number | null> = {}) =>
      sink.add({
        ENGAGEMENT_ID: sink.nextId(),
        CUSTOMER_ID: customerId,
        ENGAGEMENT_TYPE: c.channel,
        ENGAGEMENT_DATE: at,
        CAMPAIGN_ID: c.id,
        CAMPAIGN_NAME: c.name,
        MESSAGE_SUBJECT: c.subject,
        MESSAGE_CONTENT: `Hi ${person.first}, ${c.subject.toLowerCase()}. Use code ${c.promoCode} before ${new Date(c.end * 1000).toISOString().slice(0, 10)}.`,
        ENGAGEMENT_ACTION: action,
        ENGAGEMENT_STATUS: 'SUCCESS',
        DEVICE_TYPE: action === 'SENT' || action === 'DELIVERED' ? null : person.device,
        LOCATION_COUNTRY: person.location.country,
        TIME_TO_OPEN: null,
        TIME_TO_CLICK: null,
        CONVERSION_RESULT: null,
        ...extra,
      });
    const bounce = rng.next();
    if (bounce < 0.05) {
      row('SENT', sentAt, { ENGAGEMENT_STATUS: bounce < 0.04 ? 'BOUNCED' : 'FAILED' });
      continue;
    }
    row('SENT', sentAt);
    const deliveredAt = sentAt + rng.int(0, 300);
    if (deliveredAt > window.end) continue;
    row('DELIVERED', deliveredAt);
    const openP = clamp((0.08 + 0.6 * person.engagement) * interest * (alive(person, deliveredAt) ? 1 : 0.25), 0, 0.95);
    if (!rng.chance(openP)) continue;
    const openedAt = deliveredAt + 60 + Math.floor(rng.exponential(1 / (6 * 3600)));
    if (openedAt > window.end) continue;
    const toOpen = Math.floor((openedAt - sentAt) / MINUTE);
    row('OPENED', openedAt, { TIME_TO_OPEN: toOpen });
    if (rng.chance(0.015)) {
      row('UNSUBSCRIBED', Math.min(window.end, openedAt + rng.int(10, 300)), { TIME_TO_OPEN: toOpen });
      unsubscribed = true;
      continue;
    }
    if (!rng.chance(clamp((0.12 + 0.35 * person.engagement) * interest, 0, 0.9))) continue;
    const clickedAt = openedAt + 5 + Math.floor(rng.exponential(1 / 600));
    if (clickedAt > window.end) continue;
    const buyAt = clickedAt + rng.int(3, 45) * MINUTE;
    const converts = alive(person, clickedAt) && buyAt <= window.end && rng.chance(clamp(0.1 + 0.25 * person.engagement + (interest > 1 ? 0.1 : 0), 0, 0.6));
    row('CLICKED', clickedAt, { TIME_TO_OPEN: toOpen, TIME_TO_CLICK: Math.floor((clickedAt - sentAt) / MINUTE), CONVERSION_RESULT: converts ? 'PURCHASE' : null });
    if (converts) {
      const source = c.channel === 'IN_APP' ? 'push' : c.channel.toLowerCase();
      conversions.push({ time: buyAt, online: true, campaign: { id: c.id, promoCode: c.promoCode, category: c.category, source } });
    }
  }
  return { conversions, unsubscribed };
}

/** Communication, category and brand preferences (stated or inferred from behaviour). */
export function emitPreferences(person: Person, rng: Rng, world: World, unsubscribed: boolean): void {
  const { window, sinks, catalogue } = world;
  if (!rng.chance(0.7)) return;
  const sink = sinks.CUSTOMER_PREFERENCE_DATA;
  const customerId = recordFor(person, 'MARKETING', 'CRM');
  const from = Math.max(window.start, person.registration);
  const when = () => from + Math.floor(rng.next() * Math.max(1, window.end - from));
  const add = (type: string, value: string, strength: number, source: string, date: number, status = 'ACTIVE') =>
    sink.add({
      PREFERENCE_ID: sink.nextId(), CUSTOMER_ID: customerId, PREFERENCE_TYPE: type, PREFERENCE_VALUE: value,
      PREFERENCE_STRENGTH: Math.round(clamp(strength, 0, 1) * 100) / 100, PREFERENCE_SOURCE: source, PREFERENCE_DATE: date, PREFERENCE_STATUS: status,
    });
  const channel = person.device === 'MOBILE' && rng.chance(0.5) ? 'PUSH' : rng.chance(0.8) ? 'EMAIL' : 'SMS';
  const commDate = when();
  if (rng.chance(0.15)) add('COMMUNICATION', channel === 'EMAIL' ? 'SMS' : 'EMAIL', rng.uniform(0.4, 0.8), 'EXPLICIT', Math.max(from, commDate - rng.int(10, 90) * DAY), 'OVERRIDDEN');
  add('COMMUNICATION', channel, rng.uniform(0.6, 1), 'EXPLICIT', commDate, unsubscribed ? 'INACTIVE' : 'ACTIVE');
  person.favourites.slice(0, 2).forEach((c, i) => {
    add('CATEGORY', catalogue.categories[c]!, (i === 0 ? 0.75 : 0.5) + rng.uniform(0, 0.25), rng.chance(0.6) ? 'INFERRED' : 'EXPLICIT', when());
  });
  if (rng.chance(0.4)) add('BRAND', person.favouriteBrand, rng.uniform(0.4, 0.95), 'IMPLICIT', when());
}
