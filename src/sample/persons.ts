// People and their customer records. A person is one human; each of their records lives in one source system. About
// --duplicate-person-rate of people have 2-3 records whose names, emails, phones and addresses differ the way real
// systems differ (typos, nicknames, case, formats, a move, a second email, missing fields).
import type { Catalogue } from './catalogue.ts';
import { clamp, SOURCE_SYSTEMS, SYSTEM_PREFIX, type CustomerRecord, type Person, type SourceSystem, type Window } from './context.ts';
import { Rng, Zipf } from './prng.ts';
import {
  EMAIL_DOMAIN_WEIGHTS, EMAIL_DOMAINS, FEMALE_NAMES, LOCATIONS, MALE_NAMES, NICKNAMES, PLACEHOLDER_EMAILS,
  PLACEHOLDER_PHONES, STREET_NAMES, STREET_TYPES, SURNAMES, WORK_DOMAINS,
} from './reference-data.ts';
import type { Record_ } from './sink.ts';
import { DAY } from './time.ts';

const surnameZipf = new Zipf(SURNAMES.length, 0.9);
const maleZipf = new Zipf(MALE_NAMES.length, 0.7);
const femaleZipf = new Zipf(FEMALE_NAMES.length, 0.7);
const locationWeights = LOCATIONS.map((l) => l.weight);

export class CustomerIds {
  private readonly counters = new Map<SourceSystem, number>();
  next(system: SourceSystem): string {
    const n = (this.counters.get(system) ?? 0) + 1;
    this.counters.set(system, n);
    return `${SYSTEM_PREFIX[system]}-${String(n).padStart(9, '0')}`;
  }
}

export const ascii = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z]/g, '').toLowerCase();

function zipFor(rng: Rng, prefix: string, country: string): string {
  const L = () => String.fromCharCode(65 + rng.int(0, 25));
  if (country === 'US') return prefix + String(rng.int(0, 99)).padStart(2, '0');
  if (country === 'CA') return `${prefix} ${rng.int(1, 9)}${L()}${rng.int(1, 9)}`;
  return `${prefix} ${rng.int(1, 9)}${L()}${L()}`;
}

function phoneFor(rng: Rng, area: string, country: string): string {
  if (country === 'GB') return area === '20' ? `20${rng.int(7000, 8999)}${String(rng.int(0, 9999)).padStart(4, '0')}` : `${area}${rng.int(2000000, 9999999)}`;
  let exchange = rng.int(201, 998);
  if (exchange === 555) exchange = 556;
  return `${area}${exchange}${String(rng.int(0, 9999)).padStart(4, '0')}`;
}

/**
 * Email addresses are account identifiers: two people never share one. A bitset of hashed addresses (deterministic,
 * 8 MB at any size) sends a probably-taken address to a numbered variant, as real sign-ups do.
 */
export class EmailRegistry {
  private readonly bits = new Uint32Array(1 << 21);

  private taken(email: string): boolean {
    let h = 0x811c9dc5;
    for (let i = 0; i < email.length; i++) h = Math.imul(h ^ email.charCodeAt(i), 0x01000193);
    const bit = (h >>> 0) & ((1 << 26) - 1);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const was = (this.bits[word]! & mask) !== 0;
    this.bits[word] = this.bits[word]! | mask;
    return was;
  }

  claim(local: string, domain: string, rng: Rng): string {
    let email = `${local}@${domain}`;
    for (let k = 0; this.taken(email); k++) email = `${local}${k < 8 ? rng.int(1, 99 * (k + 1) ** 2) : rng.int(1000, 99999999)}@${domain}`;
    return email;
  }
}

function emailFor(rng: Rng, emails: EmailRegistry, first: string, last: string, birthYear: number): string {
  const f = ascii(first) || 'user';
  const l = ascii(last) || 'mail';
  const local = rng.pick([`${f}.${l}`, `${f}${l}`, `${f[0]}${l}`, `${f}_${l}`, `${f}.${l}${birthYear % 100}`, `${f}${rng.int(1, 999)}`, `${l}.${f}`]);
  return emails.claim(local, EMAIL_DOMAINS[rng.weighted(EMAIL_DOMAIN_WEIGHTS)]!, rng);
}

/** Draws a person: identity, address, contact, and the behaviour parameters the facts follow. */
export function makePerson(index: number, rng: Rng, window: Window, catalogue: Catalogue, household: Person | null, emails: EmailRegistry): Person {
  const gender = rng.chance(0.5) ? 'F' : 'M';
  const first = gender === 'F' ? FEMALE_NAMES[femaleZipf.draw(rng)]! : MALE_NAMES[maleZipf.draw(rng)]!;
  const sameHome = household !== null;
  const last = sameHome ? household.last : SURNAMES[surnameZipf.draw(rng)]!;
  const locationIndex = sameHome ? household.locationIndex : rng.weighted(locationWeights);
  const location = LOCATIONS[locationIndex]!;
  const ageYears = clamp(rng.normal(42, 14), 18, 88);
  const dob = Math.floor((window.end - ageYears * 365.25 * DAY) / DAY) * DAY;
  const registration = rng.chance(0.62)
    ? window.start - Math.floor(rng.uniform(1, 4 * 365)) * DAY
    : window.start + Math.floor(rng.next() * ((window.end - window.start) / DAY)) * DAY;
  const shopper = rng.pick(['store', 'store', 'online', 'online', 'omni'] as const);
  const kindDraw = rng.next();
  const kind = kindDraw < 0.08 ? 'non-buyer' : kindDraw < 0.28 ? 'one-off' : 'regular';
  // Purchase rate per day: gamma-distributed heterogeneity (BG/NBD-like), mean about one purchase a month.
  const rate = rng.gamma(1.1, 0.032 / 1.1);
  const activeFrom = Math.max(window.start, registration);
  const churnAt = rng.chance(0.3) ? activeFrom + 14 * DAY + rng.next() * Math.max(DAY, window.end - activeFrom - 14 * DAY) : null;
  // Category affinity: one to three favourites take most of the mass; the rest follows overall popularity.
  const favourites: number[] = [];
  const nFav = rng.weighted([0, 5, 3, 2]);
  while (favourites.length < nFav) {
    const c = rng.weighted(catalogue.categoryWeights);
    if (!favourites.includes(c)) favourites.push(c);
  }
  const totalW = catalogue.categoryWeights.reduce((s, w) => s + w, 0);
  const affinity = catalogue.categoryWeights.map((w) => (0.15 * w) / totalW);
  const shares = [0.5, 0.22, 0.13];
  favourites.forEach((c, i) => (affinity[c]! += shares[i]!));
  const storeShare = shopper === 'store' ? 0.9 : shopper === 'online' ? 0.05 : 0.5;
  const churner = churnAt !== null && churnAt < window.end;
  return {
    index,
    personId: `P${String(index + 1).padStart(9, '0')}`,
    gender,
    first,
    last,
    dob,
    location,
    locationIndex,
    street: sameHome ? household.street : rng.pick(STREET_NAMES),
    streetType: sameHome ? household.streetType : rng.int(0, STREET_TYPES.length - 1),
    houseNumber: sameHome ? household.houseNumber : rng.int(1, 9899),
    unit: sameHome ? household.unit : rng.chance(0.15) ? `Apt ${rng.int(1, 40)}${rng.pick(['', 'A', 'B', 'C'])}` : null,
    zip: sameHome ? household.zip : zipFor(rng, location.zip, location.country),
    phone: phoneFor(rng, rng.pick(location.areaCodes), location.country),
    email: emailFor(rng, emails, first, last, new Date(dob * 1000).getUTCFullYear()),
    registration,
    shopper,
    storeShare,
    device: shopper === 'store' ? rng.pick(['MOBILE', 'DESKTOP'] as const) : rng.pick(['MOBILE', 'MOBILE', 'DESKTOP', 'DESKTOP', 'TABLET'] as const),
    rate,
    kind,
    churnAt,
    engagement: rng.beta(2, 4),
    mood: churner ? rng.uniform(1, 2.6) : rng.uniform(2.8, 5),
    affinity,
    favourites,
    favouriteBrand: rng.pick(catalogue.brandsOf(favourites[0]!)),
    size: rng.pick(['XS', 'S', 'M', 'M', 'L', 'L', 'XL']),
    loyaltyMember: rng.chance(0.5),
    marketingOptIn: rng.chance(0.8),
    records: [],
  };
}

/** Picks the person's source systems (first = primary) and allocates their CUSTOMER_IDs. */
export function assignRecords(person: Person, rng: Rng, duplicateRate: number, ids: CustomerIds): void {
  const primary: SourceSystem = person.shopper === 'online'
    ? rng.pick(['ECOMMERCE', 'ECOMMERCE', 'ECOMMERCE', 'CRM', 'MARKETING'] as const)
    : rng.pick(['POS', 'POS', 'CRM', 'CRM', 'MARKETING'] as const);
  const systems: SourceSystem[] = [primary];
  if (rng.chance(duplicateRate)) {
    const count = rng.chance(0.7) ? 2 : 3;
    const weights: Record<SourceSystem, number> = { CRM: 3, ECOMMERCE: 3, POS: 3, MARKETING: 2, SUPPORT: 1.5 };
    while (systems.length < count) {
      const s = SOURCE_SYSTEMS[rng.weighted(SOURCE_SYSTEMS.map((x) => weights[x]))]!;
      if (!systems.includes(s)) systems.push(s);
    }
    // Facts follow the records: a POS record means some store purchases, an e-commerce record some online ones.
    if (systems.includes('POS')) person.storeShare = Math.max(person.storeShare, 0.35);
    if (systems.includes('ECOMMERCE')) person.storeShare = Math.min(person.storeShare, 0.65);
    if (person.kind === 'non-buyer' && (systems.includes('POS') || systems.includes('ECOMMERCE'))) person.kind = 'regular';
  }
  person.records = systems.map((system) => ({ system, id: ids.next(system) }));
}

/** What the facts tell the customer records (filled after the facts are generated). */
export interface RecordFacts {
  lastLogin: Map<string, number>;
  loyaltyPoints: number;
  lastActivity: number | null;
}

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();

function typo(rng: Rng, s: string): string {
  if (s.length < 4) return s;
  const i = rng.int(1, s.length - 2);
  switch (rng.int(0, 3)) {
    case 0: return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2); // transposition
    case 1: return s.slice(0, i) + s.slice(i + 1); // deletion
    case 2: return s.slice(0, i) + s[i] + s.slice(i); // doubling
    default: return s.slice(0, i) + 'aeiou'[rng.int(0, 4)] + s.slice(i + 1); // substitution
  }
}

function formatPhone(digits: string, country: string, style: number): string {
  if (country === 'GB') {
    const national = `0${digits}`;
    return [`+44 ${digits.slice(0, 2)} ${digits.slice(2, 6)} ${digits.slice(6)}`, `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`, national, `+44${digits}`][style % 4]!;
  }
  const a = digits.slice(0, 3), b = digits.slice(3, 6), c = digits.slice(6);
  return [`(${a}) ${b}-${c}`, `+1 ${a}-${b}-${c}`, `${a}${b}${c}`, `+1${a}${b}${c}`, `${a}.${b}.${c}`, `1-${a}-${b}-${c}`][style % 6]!;
}

/** How complete each system's records are: [email, phone, birth date, gender, address]. */
const COMPLETENESS: Record<SourceSystem, readonly number[]> = {
  CRM: [0.92, 0.85, 0.8, 0.7, 0.9],
  ECOMMERCE: [1, 0.6, 0.45, 0.4, 0.88],
  POS: [0.45, 0.8, 0.2, 0.3, 0.4],
  MARKETING: [0.97, 0.45, 0.3, 0.5, 0.3],
  SUPPORT: [0.85, 0.9, 0.1, 0.2, 0.3],
};
const PHONE_STYLE: Record<SourceSystem, number> = { CRM: 0, ECOMMERCE: 1, POS: 2, MARKETING: 3, SUPPORT: 4 };

/** The CUSTOMERS rows of a person, one per record, with the realistic differences between systems. */
export function customerRows(person: Person, rng: Rng, window: Window, facts: RecordFacts, stores: readonly string[], emails: EmailRegistry): { record: CustomerRecord; row: Record_ }[] {
  const loc = person.location;
  const [streetFull, streetAbbr] = STREET_TYPES[person.streetType]!;
  const churned = person.churnAt !== null && person.churnAt < window.end;
  const points = facts.loyaltyPoints;
  const tier = points >= 7000 ? 'PLATINUM' : points >= 3000 ? 'GOLD' : points >= 1000 ? 'SILVER' : 'BRONZE';
  const segment = person.rate > 0.05 ? 'PREMIUM' : person.rate > 0.015 ? 'STANDARD' : 'BASIC';
  // A moved person: the newer system (a later record) has the new address.
  const moved = rng.chance(0.15);
  const newHouse = rng.int(1, 9899);
  const newStreet = rng.pick(STREET_NAMES);
  const secondEmail = rng.chance(0.3)
    ? rng.chance(0.5)
      ? emails.claim(`${ascii(person.first)}.${ascii(person.last)}`, rng.pick(WORK_DOMAINS), rng)
      : emails.claim(`${ascii(person.first)}${ascii(person.last)}${rng.int(1, 99)}`, rng.pick(EMAIL_DOMAINS), rng)
    : null;

  // What the first record can be linked by: every later record shares at least one of these with it.
  const primaryHas = { email: false, phone: false, address: false };
  return person.records.map((record, i) => {
    const dup = i > 0;
    const c = COMPLETENESS[record.system];
    let first = person.first;
    let last = person.last;
    if (dup) {
      const v = rng.next();
      const nick = NICKNAMES[first];
      if (v < 0.25 && nick) first = rng.pick(nick);
      else if (v < 0.4) first = typo(rng, first);
      else if (v < 0.55) last = typo(rng, last);
      else if (v < 0.65) [first, last] = [first.toUpperCase(), last.toUpperCase()];
      else if (v < 0.72) first = first.toLowerCase();
      else if (v < 0.78) first = `${first} `; // trailing blank, as typed
    }
    let email: string | null = rng.chance(c[0]!) ? person.email : null;
    if (email && dup) {
      const v = rng.next();
      if (v < 0.3 && secondEmail) email = secondEmail;
      else if (v < 0.5) email = email.toUpperCase();
      else if (v < 0.6) email = ` ${title(email)}`;
      else if (v < 0.68 && email.endsWith('@gmail.com')) email = email.replace('@', `+${rng.pick(['shop', 'promo', 'news'])}@`);
    }
    if (!dup && record.system === 'POS' && rng.chance(0.03)) email = rng.pick(PLACEHOLDER_EMAILS);
    let phone: string | null = rng.chance(c[1]!) ? formatPhone(person.phone, loc.country, dup ? rng.int(0, 5) : PHONE_STYLE[record.system]) : null;
    if (!dup && record.system === 'POS' && rng.chance(0.03)) phone = rng.pick(PLACEHOLDER_PHONES);
    let hasAddress = rng.chance(c[4]!);
    let isMoved = dup && moved && i === person.records.length - 1;
    const streetType = record.system === 'POS' || (dup && rng.chance(0.4)) ? streetAbbr : streetFull;
    const hasDob = rng.chance(c[2]!);
    // Linkable by evidence, not by name alone: the first record has a real contact or address, and every later
    // record shares one of them (the same email in any spelling, the phone in any format, or the unmoved address).
    const emailLinks = email !== null && email !== secondEmail && !PLACEHOLDER_EMAILS.includes(email);
    const phoneLinks = phone !== null && !PLACEHOLDER_PHONES.includes(phone);
    const addressLinks = hasAddress && !isMoved;
    if (!dup) {
      if (!emailLinks && !phoneLinks && !addressLinks) phone = formatPhone(person.phone, loc.country, PHONE_STYLE[record.system]);
      primaryHas.email = emailLinks;
      primaryHas.phone = phoneLinks || (!emailLinks && !addressLinks);
      primaryHas.address = addressLinks;
    } else if (!((emailLinks && primaryHas.email) || (phoneLinks && primaryHas.phone) || (addressLinks && primaryHas.address))) {
      if (primaryHas.phone) phone = formatPhone(person.phone, loc.country, rng.int(0, 5));
      else if (primaryHas.email) email = person.email;
      else {
        hasAddress = true;
        isMoved = false;
      }
    }
    const address = isMoved
      ? `${newHouse} ${newStreet} ${streetType}`
      : `${person.houseNumber} ${person.street} ${streetType}${person.unit ? `${record.system === 'POS' ? ' #' : ', '}${person.unit.replace('Apt ', record.system === 'POS' ? '' : 'Apt ')}` : ''}`;
    // A second system usually knew the person earlier or at the same time (never after their first fact in it).
    const registration = dup ? person.registration - rng.int(0, 45) * DAY : person.registration;
    const loyalty = (record.system === 'CRM' || record.system === 'POS') && person.loyaltyMember;
    const lastLogin = facts.lastLogin.get(record.id);
    const row: Record_ = {
      CUSTOMER_ID: record.id,
      FIRST_NAME: first,
      LAST_NAME: last,
      EMAIL_ADDRESS: email,
      PHONE_NUMBER: phone,
      DATE_OF_BIRTH: hasDob ? person.dob : null,
      GENDER: rng.chance(c[3]!) ? (record.system === 'POS' || record.system === 'SUPPORT' ? person.gender : person.gender === 'F' ? 'Female' : 'Male') : null,
      ADDRESS_LINE_1: hasAddress ? address : null,
      CITY: hasAddress ? (record.system === 'POS' && rng.chance(0.3) ? loc.city.toUpperCase() : loc.city) : null,
      STATE_CODE: hasAddress ? loc.state : null,
      ZIP_CODE: hasAddress ? (isMoved ? zipFor(rng, loc.zip, loc.country) : person.zip) : null,
      COUNTRY_CODE: hasAddress || rng.chance(0.5) ? (record.system === 'CRM' && loc.country === 'US' ? 'USA' : loc.country) : null,
      CUSTOMER_SEGMENT: record.system === 'CRM' || record.system === 'ECOMMERCE' ? segment : null,
      LOYALTY_TIER: loyalty ? tier : null,
      LOYALTY_POINTS: loyalty ? points : null,
      REGISTRATION_DATE: registration,
      LAST_LOGIN_DATE: lastLogin !== undefined ? Math.max(lastLogin, registration) : null,
      CUSTOMER_STATUS: rng.chance(0.005) ? 'BLOCKED' : churned && person.churnAt! < window.end - 60 * DAY && rng.chance(0.5) ? 'INACTIVE' : 'ACTIVE',
      PREFERRED_CHANNEL: person.storeShare > 0.6 ? 'STORE' : person.device === 'MOBILE' ? 'MOBILE' : 'ONLINE',
      PREFERRED_STORE: person.storeShare > 0.3 ? stores[person.index % stores.length]! : null,
    };
    return { record, row };
  });
}

/** A junk customer record nobody else references: the carrier of CUSTOMERS defects. */
export function junkCustomer(rng: Rng, window: Window, catalogue: Catalogue, ids: CustomerIds, stores: readonly string[], emails: EmailRegistry): { record: CustomerRecord; row: Record_ } {
  const person = makePerson(0, rng, window, catalogue, null, emails);
  person.records = [{ system: rng.pick(SOURCE_SYSTEMS), id: '' }];
  person.records[0]!.id = ids.next(person.records[0]!.system);
  return customerRows(person, rng, window, { lastLogin: new Map(), loyaltyPoints: rng.int(0, 2000), lastActivity: null }, stores, emails)[0]!;
}
