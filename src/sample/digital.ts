// Web and app sessions with their clickstream events. Every online order has the session it was placed in (product
// views and CART_ADDs before checkout, conversion flagged, campaign attributed); people also browse without buying,
// some anonymously. Event times lie within their session; PAGE_VIEWS counts the session's PAGE_VIEW events.
import type { Product } from './catalogue.ts';
import type { Order } from './commerce.ts';
import { recordFor, type Campaign, type Person, type World } from './context.ts';
import type { Rng } from './prng.ts';
import { BROWSERS } from './reference-data.ts';
import { DAY } from './time.ts';

const SITE = 'https://shop.example.com';
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const REFERRERS: Record<string, string | null> = {
  organic: 'https://www.google.com/', paid: 'https://www.google.com/aclk', email: 'https://mail.example.net/', social: 'https://www.instagram.com/',
  sms: null, push: null, direct: null, referral: 'https://www.reddit.com/r/deals/',
};
const SOURCES = ['organic', 'direct', 'paid', 'email', 'social', 'referral'];
const SOURCE_WEIGHTS = [35, 25, 15, 10, 10, 5];
const CAMPAIGN_CHANNEL: Record<string, Campaign['channel'] | undefined> = { email: 'EMAIL', social: 'SOCIAL', sms: 'SMS', push: 'PUSH' };

interface Step {
  type: 'PAGE_VIEW' | 'CLICK' | 'SCROLL' | 'SEARCH' | 'CART_ADD';
  offset: number;
  path: string;
  title: string;
  product: Product | null;
  category: string | null;
  search: string | null;
}

export interface DigitalResult {
  lastLogin: Map<string, number>;
}

export function emitDigital(person: Person, rng: Rng, world: World, orders: readonly Order[]): DigitalResult {
  const { window, catalogue, sinks, campaigns } = world;
  const lastLogin = new Map<string, number>();
  const [browser, os] = BROWSERS[person.device]![person.index % BROWSERS[person.device]!.length]!;
  const pageOf = (s: Step): Omit<Step, 'type' | 'offset'> => ({ path: s.path, title: s.title, product: s.product, category: s.category, search: null });
  const productPage = (p: Product): Omit<Step, 'type' | 'offset'> => ({ path: `/p/${p.id}`, title: p.name, product: p, category: p.category, search: null });

  const session = (customerId: string | null, start: number | null, order: Order | null, source: string, campaignId: string | null) => {
    const steps: Step[] = [];
    let offset = 0;
    const push = (type: Step['type'], page: Omit<Step, 'type' | 'offset'>) => {
      steps.push({ type, offset, ...page });
      offset += 5 + Math.round(rng.exponential(1 / 40));
    };
    const landingCat = catalogue.categories[rng.weighted(person.affinity)]!;
    push('PAGE_VIEW', rng.chance(0.5) ? { path: '/', title: 'Home', product: null, category: null, search: null } : { path: `/c/${slug(landingCat)}`, title: landingCat, product: null, category: landingCat, search: null });
    const browseSteps = order ? rng.poisson(2) : rng.chance(0.3) ? 0 : 1 + rng.poisson(3.5);
    let lastViewed: Product | null = null;
    for (let k = 0; k < browseSteps; k++) {
      const what = rng.weighted([45, 15, 20, 10, 5]);
      if (what === 0 || (what === 4 && !lastViewed)) {
        lastViewed = catalogue.pickInCategory(rng, rng.weighted(person.affinity));
        push('PAGE_VIEW', productPage(lastViewed));
      } else if (what === 1) push('CLICK', pageOf(steps[steps.length - 1]!));
      else if (what === 2) push('SCROLL', pageOf(steps[steps.length - 1]!));
      else if (what === 3) {
        const p = catalogue.pickInCategory(rng, rng.weighted(person.affinity));
        const q = rng.chance(0.5) ? p.brand.toLowerCase() : p.name.split(' ').slice(-2, -1)[0]!.toLowerCase();
        push('SEARCH', { path: `/search?q=${encodeURIComponent(q)}`, title: `Search: ${q}`, product: null, category: null, search: q });
      } else push('CART_ADD', productPage(lastViewed!));
    }
    if (order) {
      for (const p of order.products) {
        push('PAGE_VIEW', productPage(p));
        push('CART_ADD', productPage(p));
      }
      push('PAGE_VIEW', { path: '/cart', title: 'Cart', product: null, category: null, search: null });
      push('PAGE_VIEW', { path: '/checkout', title: 'Checkout', product: null, category: null, search: null });
    }
    const lastOffset = steps[steps.length - 1]!.offset;
    const tail = order ? 30 : 10 + rng.int(0, 110);
    // An order's session ends just after the order; a browse session starts at the drawn time.
    const begin = order ? order.time - lastOffset - 20 : start!;
    const end = begin + lastOffset + tail;
    const sessionId = sinks.CUSTOMER_SESSION_DATA.nextId();
    const device = order?.channel === 'MOBILE' ? 'MOBILE' : person.device;
    let pageViews = 0;
    steps.forEach((s, i) => {
      if (s.type === 'PAGE_VIEW') pageViews++;
      const next = i + 1 < steps.length ? steps[i + 1]!.offset : lastOffset + tail;
      sinks.CUSTOMER_BEHAVIORAL_EVENTS.add({
        EVENT_ID: sinks.CUSTOMER_BEHAVIORAL_EVENTS.nextId(),
        CUSTOMER_ID: customerId,
        SESSION_ID: sessionId,
        EVENT_TYPE: s.type,
        EVENT_DATE: begin + s.offset,
        PAGE_URL: SITE + s.path,
        PAGE_TITLE: s.title,
        PRODUCT_ID: s.product?.id ?? null,
        CATEGORY_VIEWED: s.category,
        SEARCH_QUERY: s.search,
        TIME_ON_PAGE: s.type === 'PAGE_VIEW' ? next - s.offset : null,
        SCROLL_DEPTH: s.type === 'SCROLL' || s.type === 'PAGE_VIEW' ? Math.round(rng.uniform(0.1, 1) * 100) / 100 : null,
        DEVICE_TYPE: device,
        BROWSER: browser,
        OPERATING_SYSTEM: os,
        LOCATION_COUNTRY: person.location.country,
        LOCATION_CITY: person.location.city,
        REFERRER_URL: i === 0 ? REFERRERS[source] ?? null : SITE + steps[i - 1]!.path,
      });
    });
    const converted = order !== null && (order.status === 'COMPLETED' || order.status === 'PENDING');
    sinks.CUSTOMER_SESSION_DATA.add({
      SESSION_ID: sessionId,
      CUSTOMER_ID: customerId,
      SESSION_START: begin,
      SESSION_END: end,
      SESSION_DURATION: end - begin,
      PAGE_VIEWS: pageViews,
      BOUNCE_RATE: steps.length === 1 ? 1 : 0,
      CONVERSION_EVENT: converted,
      CONVERSION_VALUE: converted ? order!.totalCents / 100 : null,
      TRAFFIC_SOURCE: source,
      CAMPAIGN_ID: campaignId,
    });
    if (customerId) lastLogin.set(customerId, Math.max(lastLogin.get(customerId) ?? 0, begin));
  };

  const attribute = (t: number, source: string): string | null => {
    if (source === 'organic' || source === 'direct' || source === 'referral') return null;
    const channel = CAMPAIGN_CHANNEL[source];
    const live = campaigns.filter((c) => c.start <= t && t <= c.end && (channel === undefined || c.channel === channel));
    return live.length > 0 ? rng.pick(live).id : null;
  };

  for (const order of orders) {
    const source = order.trafficSource ?? SOURCES[rng.weighted(SOURCE_WEIGHTS)]!;
    session(order.customerId, null, order, source, order.campaignId ?? attribute(order.time, source));
  }
  // Browsing without buying, while the person is active (and briefly after they stop buying).
  const online = 1 - person.storeShare;
  const from = Math.max(window.start, person.registration);
  const until = Math.min(window.end - DAY, (person.churnAt ?? window.end) + 10 * DAY);
  const rate = online * (person.rate * 2.5 + 0.03) + 0.004;
  const webId = recordFor(person, 'ECOMMERCE');
  for (let t = from + rng.exponential(rate / DAY); t < until; t += rng.exponential(rate / DAY)) {
    const source = SOURCES[rng.weighted(SOURCE_WEIGHTS)]!;
    session(rng.chance(0.12) ? null : webId, Math.floor(t), null, source, attribute(t, source));
  }
  return { lastLogin };
}
