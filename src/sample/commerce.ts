// Purchases, their line items and returns. Purchase times follow a thinned Poisson process (rate per person, weekly
// and yearly seasonality) that stops when a churner leaves; baskets follow the person's category affinities, brand
// loyalty and their own purchase history (repeat purchases), over power-law product popularity.
// Amounts: item TOTAL_PRICE = QUANTITY * UNIT_PRICE - DISCOUNT_AMOUNT; transaction DISCOUNT_AMOUNT = sum of item
// discounts; TOTAL_AMOUNT = sum of item TOTAL_PRICE + TAX_AMOUNT + SHIPPING_AMOUNT (for returns too: the refund).
import type { Product } from './catalogue.ts';
import { dayStart, MAX_SEASON, recordFor, season, timeOfDay, type Person, type World } from './context.ts';
import type { Rng } from './prng.ts';
import { DAY, MINUTE } from './time.ts';

export interface PlannedPurchase {
  time: number;
  campaign?: { id: string; promoCode: string; category: number; source: string };
  online?: boolean;
}

export interface Order {
  transactionId: string;
  customerId: string;
  time: number;
  channel: string;
  status: string;
  totalCents: number;
  products: Product[];
  campaignId: string | null;
  trafficSource: string | null;
}

export interface CommerceResult {
  orders: Order[];
  returns: { time: number; transactionId: string; category: string }[];
  loyaltyPoints: number;
  lastPurchase: number | null;
}

const TAX_RATES: Record<string, number> = { CA: 0.13, GB: 0.2 };
function taxRate(person: Person): number {
  const loc = person.location;
  if (loc.country !== 'US') return TAX_RATES[loc.country] ?? 0.1;
  return 0.05 + ((loc.state!.charCodeAt(0) * 7 + loc.state!.charCodeAt(1)) % 40) / 1000;
}

/** Purchase times of a person (campaign conversions are added by the engagement model). */
export function planPurchases(person: Person, rng: Rng, world: World): PlannedPurchase[] {
  const { window } = world;
  const from = Math.max(window.start, person.registration);
  const until = Math.min(window.end, person.churnAt ?? window.end);
  const out: PlannedPurchase[] = [];
  if (person.kind === 'non-buyer' || until <= from) return out;
  if (person.kind === 'one-off') {
    for (let tries = 0; tries < 20; tries++) {
      const t = from + rng.next() * (until - from);
      if (rng.next() * MAX_SEASON < season(t)) return [{ time: t }];
    }
    return [{ time: from + rng.next() * (until - from) }];
  }
  // New customers usually buy soon after registering.
  if (person.registration >= window.start && rng.chance(0.7)) out.push({ time: Math.min(until, person.registration + rng.exponential(1 / (3 * DAY))) });
  const max = person.rate * MAX_SEASON;
  for (let t = from + rng.exponential(max / DAY); t < until; t += rng.exponential(max / DAY)) {
    if (rng.next() * MAX_SEASON < season(t)) out.push({ time: t });
  }
  return out;
}

function pickProduct(person: Person, rng: Rng, world: World, history: Product[], campaignCategory?: number): Product {
  const cat = world.catalogue;
  // Repeat purchase: consumables the person bought before come back.
  if (history.length > 0 && rng.chance(0.3)) {
    const again = history[history.length - 1 - Math.floor(rng.next() * Math.min(history.length, 12))]!;
    if (again.consumable || rng.chance(0.15)) return again;
  }
  const category = campaignCategory !== undefined && rng.chance(0.7) ? campaignCategory : rng.weighted(person.affinity);
  let product = cat.pickInCategory(rng, category);
  // Brand loyalty in the favourite category.
  if (category === person.favourites[0] && rng.chance(0.45)) {
    for (let k = 0; k < 6 && product.brand !== person.favouriteBrand; k++) product = cat.pickInCategory(rng, category);
  }
  return product;
}

interface Line {
  product: Product;
  quantity: number;
  discountCents: number;
  size: string | null;
  color: string | null;
  rating: number | null;
}

/** Writes the person's transactions and items; returns what sessions, tickets and the customer record need. */
export function emitCommerce(person: Person, rng: Rng, world: World, planned: PlannedPurchase[]): CommerceResult {
  const { window, sinks } = world;
  const tx = sinks.CUSTOMER_TRANSACTIONS;
  const items = sinks.CUSTOMER_TRANSACTION_ITEMS;
  const history: Product[] = [];
  const orders: Order[] = [];
  const returns: CommerceResult['returns'] = [];
  let points = person.loyaltyMember ? rng.int(0, 1500) : 0;
  let lastPurchase: number | null = null;
  const rate = taxRate(person);
  const stores = world.stores[person.locationIndex]!;
  const store = stores[person.index % stores.length]!;
  planned.sort((a, b) => a.time - b.time);

  const writeTransaction = (o: {
    time: number; type: 'PURCHASE' | 'RETURN'; channel: string; status: string; lines: Line[]; customerId: string;
    promo: string | null; receipt?: string; orderId?: string | null; refundReason?: string | null; payment: string;
  }) => {
    const id = tx.nextId();
    let sub = 0;
    let disc = 0;
    for (const l of o.lines) {
      sub += l.quantity * l.product.priceCents - l.discountCents;
      disc += l.discountCents;
    }
    const online = o.channel !== 'POS';
    const shipping = o.type === 'PURCHASE' && online && sub < 5000 ? 599 : 0;
    const tax = Math.round(sub * rate);
    const total = sub + tax + shipping;
    const completedPurchase = o.type === 'PURCHASE' && o.status === 'COMPLETED';
    const earned = person.loyaltyMember && completedPurchase ? Math.floor(total / 100) : 0;
    const redeemed = person.loyaltyMember && completedPurchase && points > 500 && rng.chance(0.1) ? 100 * rng.int(1, Math.min(5, Math.floor(points / 100))) : 0;
    points += earned - redeemed;
    if (o.type === 'RETURN' && person.loyaltyMember) points = Math.max(0, points - Math.floor(total / 100));
    const orderId = o.orderId !== undefined ? o.orderId : online ? `ORD-${id.slice(3)}` : null;
    tx.add({
      TRANSACTION_ID: id,
      CUSTOMER_ID: o.customerId,
      CHANNEL: o.channel,
      TRANSACTION_DATE: o.time,
      TRANSACTION_TYPE: o.type,
      TOTAL_AMOUNT: total / 100,
      TAX_AMOUNT: tax / 100,
      SHIPPING_AMOUNT: shipping / 100,
      CURRENCY_CODE: person.location.country === 'US' ? 'USD' : person.location.country === 'CA' ? 'CAD' : 'GBP',
      PAYMENT_METHOD: o.payment,
      CARD_TYPE: o.payment === 'CARD' ? rng.pick(['VISA', 'VISA', 'VISA', 'MASTERCARD', 'MASTERCARD', 'AMEX', 'DISCOVER']) : null,
      STORE_ID: online ? null : store,
      ONLINE_ORDER_ID: orderId,
      LOYALTY_POINTS_EARNED: person.loyaltyMember ? earned : null,
      LOYALTY_POINTS_REDEEMED: person.loyaltyMember ? redeemed : null,
      DISCOUNT_AMOUNT: disc / 100,
      PROMOTION_CODE: o.promo,
      COUPON_CODE: o.type === 'PURCHASE' && rng.chance(0.04) ? `SAVE${rng.pick([5, 10, 15])}-${rng.int(1000, 9999)}` : null,
      TRANSACTION_STATUS: o.status,
      CASHIER_ID: online ? null : `CSH-${store.slice(4)}-${rng.int(1, 12)}`,
      TERMINAL_ID: online ? null : `TRM-${store.slice(4)}-${rng.int(1, 6)}`,
      RECEIPT_NUMBER: o.receipt ?? `RCP-${id.slice(3)}`,
      REFUND_REASON: o.refundReason ?? null,
    });
    for (const l of o.lines) {
      const gross = l.quantity * l.product.priceCents;
      items.add({
        ITEM_ID: items.nextId(),
        TRANSACTION_ID: id,
        PRODUCT_ID: l.product.id,
        PRODUCT_NAME: l.product.name,
        CATEGORY: l.product.category,
        SUBCATEGORY: l.product.subcategory,
        BRAND: l.product.brand,
        SKU: l.product.sku,
        QUANTITY: l.quantity,
        UNIT_PRICE: l.product.priceCents / 100,
        TOTAL_PRICE: (gross - l.discountCents) / 100,
        DISCOUNT_PERCENTAGE: gross > 0 ? Math.round((10000 * l.discountCents) / gross) / 100 : 0,
        DISCOUNT_AMOUNT: l.discountCents / 100,
        ITEM_RATING: o.type === 'PURCHASE' ? l.rating : null,
        ITEM_STATUS: o.type === 'RETURN' ? 'RETURNED' : 'SOLD',
        SIZE: l.size,
        COLOR: l.color,
        WEIGHT: l.product.weightKg * l.quantity,
      });
    }
    return { id, total, receipt: o.receipt ?? `RCP-${id.slice(3)}`, orderId };
  };

  for (const p of planned) {
    const isStore = !p.online && !p.campaign && rng.chance(person.storeShare);
    const channel = isStore ? 'POS' : p.campaign?.source === 'social' || rng.chance(0.03) ? 'SOCIAL' : person.device === 'MOBILE' && rng.chance(0.7) ? 'MOBILE' : 'ECOMMERCE';
    const time = dayStart(p.time) + (p.campaign ? p.time - dayStart(p.time) : timeOfDay(rng, isStore));
    if (time > window.end) continue;
    const customerId = isStore ? recordFor(person, 'POS', 'CRM') : recordFor(person, 'ECOMMERCE');
    const nLines = 1 + rng.poisson(isStore ? 1.9 : 1.4);
    const lines: Line[] = [];
    for (let k = 0; k < nLines; k++) {
      const product = pickProduct(person, rng, world, history, p.campaign?.category);
      if (lines.some((l) => l.product.id === product.id)) continue;
      const pct = p.campaign ? rng.pick([10, 15, 20]) : rng.chance(0.15) ? rng.pick([5, 10, 15, 20, 25, 30]) : 0;
      const quantity = product.consumable ? 1 + rng.poisson(0.6) : rng.chance(0.08) ? 2 : 1;
      lines.push({
        product,
        quantity,
        discountCents: Math.round((quantity * product.priceCents * pct) / 100),
        size: product.sizes ? (rng.chance(0.85) ? person.size : rng.pick(product.sizes)) : null,
        color: product.colors ? rng.pick(product.colors) : null,
        rating: rng.chance(0.15) ? Math.max(1, Math.min(5, Math.round(rng.normal(person.mood, 0.9)))) : null,
      });
    }
    const recent = window.end - time < 2 * DAY;
    const draw = rng.next();
    // A campaign conversion is a completed purchase (the engagement row already says PURCHASE).
    const status = p.campaign ? 'COMPLETED' : recent && draw < 0.3 ? 'PENDING' : draw > 0.97 ? 'FAILED' : draw > 0.945 ? 'CANCELLED' : 'COMPLETED';
    const payment = isStore ? rng.pick(['CASH', 'CARD', 'CARD', 'CARD', 'MOBILE']) : rng.pick(['CARD', 'CARD', 'CARD', 'WALLET', 'WALLET', 'MOBILE', 'CRYPTO']);
    const promo = p.campaign?.promoCode ?? null;
    const written = writeTransaction({ time, type: 'PURCHASE', channel, status, lines, customerId, promo, payment });
    const order = (id: string, t: number, st: string, total: number): Order => ({
      transactionId: id, customerId, time: t, channel, status: st, totalCents: total, products: lines.map((l) => l.product),
      campaignId: p.campaign?.id ?? null, trafficSource: p.campaign?.source ?? null,
    });
    if (channel !== 'POS') orders.push(order(written.id, time, status, written.total));
    let completedAt = status === 'COMPLETED' ? time : null;
    let completedId = written.id;
    // A failed payment is usually retried a few minutes later.
    if (status === 'FAILED' && rng.chance(0.7) && time + 10 * MINUTE < window.end) {
      const retryAt = time + rng.int(2, 10) * MINUTE;
      const retry = writeTransaction({ time: retryAt, type: 'PURCHASE', channel, status: 'COMPLETED', lines, customerId, promo, payment: isStore ? 'CASH' : 'CARD' });
      if (channel !== 'POS') orders.push(order(retry.id, retryAt, 'COMPLETED', retry.total));
      completedAt = retryAt;
      completedId = retry.id;
    }
    if (completedAt === null) continue;
    lastPurchase = completedAt;
    for (const l of lines) history.push(l.product);
    // Returns: apparel most often, by the same customer record, with the purchase's receipt number.
    const returned = lines.filter((l) => rng.chance(l.product.category === 'Apparel' ? 0.12 : l.product.consumable ? 0.015 : 0.05));
    if (returned.length > 0) {
      const at = completedAt + rng.int(2, 30) * DAY + rng.int(0, 3600);
      if (at <= window.end) {
        const rt = writeTransaction({
          time: dayStart(at) + timeOfDay(rng, isStore), type: 'RETURN', channel, status: 'COMPLETED', lines: returned, customerId, promo: null,
          receipt: `RCP-${completedId.slice(3)}`, orderId: channel === 'POS' ? null : `ORD-${completedId.slice(3)}`,
          refundReason: rng.pick(['Wrong size', 'Damaged on arrival', 'Not as described', 'Changed my mind', 'Better price elsewhere', 'Arrived late']),
          payment,
        });
        returns.push({ time: dayStart(at), transactionId: rt.id, category: returned[0]!.product.category });
      }
    }
  }
  return { orders, returns, loyaltyPoints: Math.max(0, points), lastPurchase };
}
