// A small synthetic retail world in the Silver layout, for tests, examples and `c360 evaluate --synthetic`: customers
// with BG/NBD-like buying and dropout, favourite categories and brands, staple products they re-buy, products
// bought together, browsing before buying, stated preferences, and the dirt of real exports (cancellations,
// returns, missing customers, shipping lines). Seeded, so the same options give the same files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACTS } from '../../schemas/index.ts';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { addDays } from '../runtime/days.ts';
import { seededRandom } from './math.ts';
import { duckdbType } from '../contracts/duckdb-types.ts';

export interface SyntheticOptions {
  customers: number;
  days: number;
  start: string;
  seed: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = { customers: 600, days: 240, start: '2026-01-01', seed: 7 };

type Rec = Record<string, string | number | boolean | null>;

export interface SyntheticWorld {
  transactions: Rec[];
  items: Rec[];
  events: Rec[];
  sessions: Rec[];
  preferences: Rec[];
  customers: Rec[];
}

const CATEGORIES = ['ELECTRONICS', 'APPAREL', 'HOME', 'BEAUTY', 'SPORTS', 'TOYS', 'GROCERY', 'BOOKS'];

export function generateWorld(o: SyntheticOptions = DEFAULT_SYNTHETIC): SyntheticWorld {
  const rand = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const gamma1 = (shape: number) => {
    // Sum of exponentials for integer part plus a crude fractional part: enough heterogeneity for a fixture.
    let s = 0;
    for (let i = 0; i < Math.floor(shape); i++) s -= Math.log(rand());
    return s + (shape % 1) * -Math.log(rand());
  };
  const products: { id: string; cat: string; brand: string; price: number; companion: number[] }[] = [];
  CATEGORIES.forEach((cat, ci) => {
    for (let j = 0; j < 25; j++) products.push({ id: `P${ci}${String(j).padStart(3, '0')}`, cat, brand: `BRAND${(ci * 3 + (j % 4)) % 10}`, price: Math.round((5 + rand() * 120) * 100) / 100, companion: [] });
  });
  for (let i = 0; i < products.length; i++) {
    products[i]!.companion = [Math.floor(rand() * products.length), (Math.floor(i / 25) * 25 + ((i + 1 + Math.floor(rand() * 5)) % 25))];
  }
  // Zipf-like popularity inside a category.
  const inCat = (cat: string) => {
    const base = CATEGORIES.indexOf(cat) * 25;
    const r = Math.floor(25 * Math.pow(rand(), 2.2));
    return base + r;
  };
  const w: SyntheticWorld = { transactions: [], items: [], events: [], sessions: [], preferences: [], customers: [] };
  let txn = 0;
  let item = 0;
  let ev = 0;
  let ses = 0;
  for (let c = 0; c < o.customers; c++) {
    const cid = `C${String(c).padStart(6, '0')}`;
    const pid = `C360-${String(c).padStart(6, '0')}`;
    const fav = [pick(CATEGORIES), pick(CATEGORIES)];
    const favBrand = `BRAND${Math.floor(rand() * 10)}`;
    const staples = [inCat(fav[0]!), inCat(fav[0]!), inCat(fav[1]!)];
    const rate = gamma1(1.5) / 25; // purchases per day
    const dropout = 0.05 + 0.25 * rand();
    const spend = 0.6 + rand() * 1.2;
    const startDay = Math.floor(rand() * o.days * 0.7);
    const reg = addDays(o.start, startDay - Math.floor(rand() * 30));
    w.customers.push({ CUSTOMER_ID: cid, CUSTOMER360_ID: pid, REGISTRATION_DATE: reg, CUSTOMER_STATUS: 'ACTIVE', LOYALTY_TIER: pick(['BRONZE', 'SILVER', 'GOLD']) });
    if (rand() < 0.5) {
      w.preferences.push({ PREFERENCE_ID: `PR${c}a`, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, PREFERENCE_TYPE: 'CATEGORY', PREFERENCE_VALUE: fav[0]!, PREFERENCE_STRENGTH: 0.8, PREFERENCE_SOURCE: 'EXPLICIT', PREFERENCE_DATE: reg, PREFERENCE_STATUS: 'ACTIVE' });
      w.preferences.push({ PREFERENCE_ID: `PR${c}b`, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, PREFERENCE_TYPE: 'BRAND', PREFERENCE_VALUE: favBrand, PREFERENCE_STRENGTH: 0.6, PREFERENCE_SOURCE: 'EXPLICIT', PREFERENCE_DATE: reg, PREFERENCE_STATUS: 'ACTIVE' });
    }
    const bought: number[] = [];
    let day = startDay;
    let alive = true;
    let first = true;
    while (alive && day < o.days) {
      const date = addDays(o.start, day);
      const time = `${date} ${String(8 + Math.floor(rand() * 12)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}:00`;
      const basket: number[] = [];
      const n = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) {
        const u = rand();
        let p: number;
        if (u < 0.35 && !first) p = pick(staples);
        else if (u < 0.6 && bought.length) p = pick(products[pick(bought)]!.companion);
        else if (u < 0.9) p = inCat(pick(fav));
        else p = Math.floor(rand() * products.length);
        if (!basket.includes(p)) basket.push(p);
      }
      // Browsing: a session viewing the basket, a companion and something in a favourite category.
      const sid = `S${ses++}`;
      w.sessions.push({ SESSION_ID: sid, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, SESSION_START: time, PAGE_VIEWS: basket.length + 2, CONVERSION_EVENT: true });
      for (const p of [...basket, products[basket[0]!]!.companion[0]!, inCat(fav[0]!)]) {
        w.events.push({ EVENT_ID: `E${ev++}`, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, SESSION_ID: sid, EVENT_TYPE: 'PAGE_VIEW', EVENT_DATE: time, PRODUCT_ID: products[p]!.id, CATEGORY_VIEWED: products[p]!.cat });
      }
      const tid = `T${txn++}`;
      const cancelled = rand() < 0.03;
      let total = 0;
      for (const p of basket) {
        const q = 1 + (rand() < 0.2 ? 1 : 0);
        const price = Math.round(products[p]!.price * spend * 100) / 100;
        total += price * q;
        const returned = rand() < 0.04;
        w.items.push({ ITEM_ID: `I${item++}`, TRANSACTION_ID: tid, PRODUCT_ID: products[p]!.id, PRODUCT_NAME: `Product ${products[p]!.id}`, CATEGORY: products[p]!.cat, BRAND: products[p]!.brand, QUANTITY: q, UNIT_PRICE: price, TOTAL_PRICE: Math.round(price * q * 100) / 100, ITEM_STATUS: returned ? 'RETURNED' : 'SOLD' });
        if (!cancelled && !returned) bought.push(p);
      }
      if (rand() < 0.3) w.items.push({ ITEM_ID: `I${item++}`, TRANSACTION_ID: tid, PRODUCT_ID: 'SHIP-STD', PRODUCT_NAME: 'Shipping', CATEGORY: 'SHIPPING', QUANTITY: 1, UNIT_PRICE: 4.99, TOTAL_PRICE: 4.99, ITEM_STATUS: 'SOLD' });
      w.transactions.push({ TRANSACTION_ID: tid, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, CHANNEL: 'ECOMMERCE', TRANSACTION_DATE: time, TRANSACTION_TYPE: 'PURCHASE', TOTAL_AMOUNT: Math.round(total * 100) / 100, TRANSACTION_STATUS: cancelled ? 'CANCELLED' : 'COMPLETED' });
      first = false;
      if (rand() < dropout) alive = false;
      day += Math.max(1, Math.round(-Math.log(rand()) / rate));
    }
  }
  // Dirt: a purchase of an unknown customer and a return transaction referencing a sold product.
  const day = addDays(o.start, Math.floor(o.days / 2));
  w.transactions.push({ TRANSACTION_ID: 'T-ORPHAN', CUSTOMER_ID: 'UNKNOWN', CUSTOMER360_ID: null, TRANSACTION_DATE: `${day} 10:00:00`, TRANSACTION_TYPE: 'PURCHASE', TOTAL_AMOUNT: 10, TRANSACTION_STATUS: 'COMPLETED' });
  w.items.push({ ITEM_ID: 'I-ORPHAN', TRANSACTION_ID: 'T-ORPHAN', PRODUCT_ID: products[0]!.id, CATEGORY: products[0]!.cat, QUANTITY: 1, UNIT_PRICE: 10, TOTAL_PRICE: 10, ITEM_STATUS: 'SOLD' });
  return w;
}

const TABLES: [keyof SyntheticWorld, string][] = [
  ['transactions', 'CUSTOMER_TRANSACTIONS'],
  ['items', 'CUSTOMER_TRANSACTION_ITEMS'],
  ['events', 'CUSTOMER_BEHAVIORAL_EVENTS'],
  ['sessions', 'CUSTOMER_SESSION_DATA'],
  ['preferences', 'CUSTOMER_PREFERENCE_DATA'],
  ['customers', 'CUSTOMERS'],
];

/**
 * Writes records as Silver datasets (`silver/customer360/<dir>/<file>.parquet`), typed by the contracts, with
 * CUSTOMER360_ID where the table has CUSTOMER_ID. `file` lets a test append a second file (late data).
 */
export async function writeSilver(engine: Engine, lake: Lake, world: Partial<SyntheticWorld>, file = 'part-0'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'c360-synth-'));
  try {
    for (const [key, name] of TABLES) {
      const recs = world[key];
      if (!recs || recs.length === 0) continue;
      const contract = CONTRACTS.find((c) => c.name === name)!;
      const cols = contract.columns.map((c) => [c.name, duckdbType(c.type)] as const);
      if (contract.columns.some((c) => c.name === 'CUSTOMER_ID')) cols.push(['CUSTOMER360_ID', 'VARCHAR']);
      const json = join(dir, `${key}.ndjson`);
      await writeFile(json, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const spec = `{${cols.map(([n, t]) => `${lit(n)}: ${lit(t)}`).join(', ')}}`;
      const out = join(dir, `${key}.parquet`);
      await engine.run(`COPY (SELECT ${cols.map(([n]) => ident(n)).join(', ')} FROM read_json(${lit(json)}, format = 'newline_delimited', columns = ${spec}))
        TO ${lit(out)} (FORMAT parquet)`);
      await lake.putFile(out, `silver/customer360/${contract.bronzeDir}/${file}.parquet`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
