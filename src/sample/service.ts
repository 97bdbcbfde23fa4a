// Support tickets and their interactions. Tickets come from a base rate, from returns (product issues) and, for
// churners, from a bad experience shortly before they leave (low satisfaction, negative sentiment: a churn signal).
// Interactions lie between creation and resolution; TOTAL_RESOLUTION_TIME = minutes from CREATION_DATE to
// RESOLUTION_DATE; the last interaction of a resolved ticket carries RESOLUTION_TIME = TOTAL_RESOLUTION_TIME.
import { clamp, recordFor, type Person, type World } from './context.ts';
import type { Rng } from './prng.ts';
import { DAY, HOUR, MINUTE } from './time.ts';

const CATEGORIES = ['BILLING', 'TECHNICAL', 'PRODUCT', 'GENERAL'] as const;
const SUBCATEGORIES: Record<string, readonly string[]> = {
  BILLING: ['Double charge', 'Refund status', 'Payment failed', 'Invoice request'],
  TECHNICAL: ['Login problem', 'App crash', 'Checkout error', 'Password reset'],
  PRODUCT: ['Damaged item', 'Wrong item', 'Size exchange', 'Product question'],
  GENERAL: ['Store hours', 'Loyalty points', 'Delivery time', 'Account update'],
};
const SOURCES = ['EMAIL', 'PHONE', 'CHAT', 'WEB_FORM', 'SOCIAL'] as const;
const TYPE_OF_SOURCE: Record<string, string> = { EMAIL: 'EMAIL', PHONE: 'PHONE', CHAT: 'CHAT', WEB_FORM: 'EMAIL', SOCIAL: 'SOCIAL' };
const PRIORITY_MINUTES: Record<string, readonly [number, number]> = { URGENT: [60, 8 * 60], HIGH: [4 * 60, 36 * 60], MEDIUM: [12 * 60, 3 * 24 * 60], LOW: [24 * 60, 6 * 24 * 60] };

export function emitService(person: Person, rng: Rng, world: World, returns: readonly { time: number; category: string }[], forceOne: boolean): void {
  const { window, sinks } = world;
  const from = Math.max(window.start, person.registration);
  const until = Math.min(window.end, (person.churnAt ?? window.end) + 5 * DAY);
  const planned: { at: number; category: string; angry: boolean }[] = [];
  const base = rng.poisson((0.15 * (until - from)) / (180 * DAY));
  for (let k = 0; k < base; k++) planned.push({ at: from + rng.next() * Math.max(0, until - from), category: CATEGORIES[rng.weighted([25, 25, 30, 20])]!, angry: false });
  for (const r of returns) if (rng.chance(0.15)) planned.push({ at: r.time + rng.int(0, 2) * DAY + rng.int(8, 20) * HOUR, category: 'PRODUCT', angry: false });
  if (person.churnAt !== null && person.churnAt < window.end && rng.chance(0.45)) {
    planned.push({ at: Math.max(from, person.churnAt - rng.uniform(3, 25) * DAY), category: rng.pick(['BILLING', 'PRODUCT', 'TECHNICAL']), angry: true });
  }
  if (planned.length === 0 && forceOne) planned.push({ at: from + rng.next() * Math.max(0, window.end - from - DAY), category: 'GENERAL', angry: false });
  const customerId = recordFor(person, 'SUPPORT');
  for (const p of planned) {
    const creation = Math.floor(p.at);
    if (creation > window.end || creation < window.start) continue;
    const priority = p.angry ? rng.pick(['HIGH', 'URGENT']) : rng.pick(['LOW', 'MEDIUM', 'MEDIUM', 'HIGH']);
    const [lo, hi] = PRIORITY_MINUTES[priority]!;
    const totalMinutes = Math.round(Math.exp(rng.uniform(Math.log(lo), Math.log(hi))) * (p.angry ? 2 : 1));
    const firstResponse = Math.max(1, Math.min(totalMinutes - 1, Math.round(rng.uniform(0.02, 0.3) * totalMinutes)));
    const resolvedAt = creation + totalMinutes * MINUTE;
    const resolved = resolvedAt <= window.end;
    const status = resolved ? (resolvedAt + 3 * DAY <= window.end && rng.chance(0.75) ? 'CLOSED' : 'RESOLVED') : creation + firstResponse * MINUTE <= window.end ? 'IN_PROGRESS' : 'OPEN';
    const satisfaction = resolved && rng.chance(0.6) ? clamp(Math.round(rng.normal(p.angry ? 1.5 : person.mood, 0.7)), 1, 5) : null;
    const source = rng.pick(SOURCES);
    const agent = `AGT-${String(rng.int(1, 60)).padStart(3, '0')}`;
    const ticketId = sinks.CUSTOMER_SERVICE_TICKETS.nextId();
    sinks.CUSTOMER_SERVICE_TICKETS.add({
      TICKET_ID: ticketId,
      CUSTOMER_ID: customerId,
      TICKET_STATUS: status,
      TICKET_PRIORITY: priority,
      CREATION_DATE: creation,
      RESOLUTION_DATE: resolved ? resolvedAt : null,
      FIRST_RESPONSE_TIME: status === 'OPEN' ? null : firstResponse,
      TOTAL_RESOLUTION_TIME: resolved ? totalMinutes : null,
      ASSIGNED_AGENT_ID: status === 'OPEN' ? null : agent,
      TICKET_SOURCE: source,
      TICKET_CATEGORY: p.category,
      CUSTOMER_SATISFACTION: satisfaction,
    });
    // Interactions: the customer's opening contact, the first response, follow-ups, and the resolving one.
    const times = [creation, creation + firstResponse * MINUTE];
    const extra = rng.poisson(p.angry ? 2 : 0.7);
    for (let k = 0; k < extra; k++) times.push(creation + Math.floor(rng.uniform(firstResponse, totalMinutes)) * MINUTE);
    if (resolved) times.push(resolvedAt);
    const inWindow = times.filter((t) => t <= window.end).sort((a, b) => a - b);
    const subcategory = rng.pick(SUBCATEGORIES[p.category]!);
    inWindow.forEach((t, i) => {
      const last = resolved && i === inWindow.length - 1;
      const sentiment = clamp(rng.normal(p.angry ? -0.6 : (person.mood - 3) / 2.5, 0.25), -1, 1);
      sinks.CUSTOMER_SERVICE_INTERACTIONS.add({
        INTERACTION_ID: sinks.CUSTOMER_SERVICE_INTERACTIONS.nextId(),
        CUSTOMER_ID: customerId,
        TICKET_ID: ticketId,
        INTERACTION_TYPE: i === 0 ? TYPE_OF_SOURCE[source]! : rng.pick(['EMAIL', 'PHONE', 'CHAT']),
        INTERACTION_DATE: t,
        INTERACTION_CHANNEL: i === 0 ? source : 'AGENT',
        AGENT_ID: i === 0 ? null : agent,
        INTERACTION_SUBJECT: `${subcategory} (${ticketId})`,
        INTERACTION_DESCRIPTION: i === 0 ? `Customer reports: ${subcategory.toLowerCase()}.` : last ? 'Issue resolved and confirmed with the customer.' : 'Agent followed up with the customer.',
        INTERACTION_OUTCOME: last ? 'RESOLVED' : i === 0 ? 'OPENED' : p.angry && rng.chance(0.4) ? 'ESCALATED' : 'PENDING_CUSTOMER',
        RESOLUTION_TIME: last ? totalMinutes : null,
        SATISFACTION_SCORE: last ? satisfaction : null,
        SENTIMENT_SCORE: Math.round(sentiment * 100) / 100,
        PRIORITY_LEVEL: priority,
        CATEGORY: p.category,
        SUBCATEGORY: subcategory,
        FOLLOW_UP_REQUIRED: !last,
        ESCALATION_LEVEL: p.angry ? rng.int(1, 2) : 0,
      });
    });
  }
}
