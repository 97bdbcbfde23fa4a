// Third-party profiles and social sentiment for a subset of people. Demographics agree with the customer record
// (age band from the birth date, gender); interests follow the person's favourite categories; sentiment follows
// the person's mood (churners skew negative).
import { clamp, recordFor, type Person, type World } from './context.ts';
import type { Rng } from './prng.ts';
import { EDUCATION_LEVELS, INCOME_RANGES, LIFESTYLE_FACTORS, OCCUPATIONS } from './reference-data.ts';
import { DAY } from './time.ts';

const PROFILE_SOURCES = [['FACEBOOK', 'SOCIAL'], ['TWITTER', 'SOCIAL'], ['LINKEDIN', 'DEMOGRAPHIC'], ['ENRICHMENT', 'DEMOGRAPHIC'], ['ENRICHMENT', 'PSYCHOGRAPHIC']] as const;

function ageBand(years: number): string {
  return years < 25 ? '18-24' : years < 35 ? '25-34' : years < 45 ? '35-44' : years < 55 ? '45-54' : '55+';
}

export function emitExternal(person: Person, rng: Rng, world: World): void {
  const { window, sinks, catalogue } = world;
  const customerId = recordFor(person, 'CRM');
  const from = Math.max(window.start, person.registration);
  const span = Math.max(DAY, window.end - from);
  if (rng.chance(0.35)) {
    const n = rng.chance(0.8) ? 1 : 2;
    const used = new Set<number>();
    for (let k = 0; k < n; k++) {
      const s = rng.int(0, PROFILE_SOURCES.length - 1);
      if (used.has(s)) continue;
      used.add(s);
      const [source, type] = PROFILE_SOURCES[s]!;
      const date = from + Math.floor(rng.next() * span);
      const interests = person.favourites.map((c) => catalogue.categories[c]!.toLowerCase());
      if (rng.chance(0.5)) interests.push(rng.pick(['travel', 'music', 'cooking', 'gaming', 'fitness', 'photography']));
      const lifestyle = [rng.pick(LIFESTYLE_FACTORS), rng.pick(LIFESTYLE_FACTORS)].filter((v, i, a) => a.indexOf(v) === i);
      const years = (window.end - person.dob) / (365.25 * DAY);
      const incomeShift = person.rate > 0.05 ? 2 : person.rate > 0.015 ? 1 : 0;
      sinks.EXTERNAL_CUSTOMER_PROFILES.add({
        PROFILE_ID: sinks.EXTERNAL_CUSTOMER_PROFILES.nextId(),
        CUSTOMER_ID: customerId,
        DATA_SOURCE: source,
        PROFILE_TYPE: type,
        PROFILE_DATE: date,
        AGE_RANGE: ageBand(years),
        GENDER: person.gender === 'F' ? 'Female' : 'Male',
        EDUCATION_LEVEL: rng.chance(0.8) ? rng.pick(EDUCATION_LEVELS) : null,
        OCCUPATION: years > 67 ? 'Retired' : years < 23 && rng.chance(0.6) ? 'Student' : rng.pick(OCCUPATIONS),
        INCOME_RANGE: INCOME_RANGES[clamp(rng.int(0, 3) + incomeShift, 0, INCOME_RANGES.length - 1)]!,
        INTERESTS: JSON.stringify(interests),
        LIFESTYLE_FACTORS: JSON.stringify(lifestyle),
        SOCIAL_MEDIA_ACTIVITY: rng.pick(['HIGH', 'MEDIUM', 'MEDIUM', 'LOW']),
        INFLUENCE_SCORE: Math.round(rng.beta(1.5, 5) * 100) / 100,
        DATA_QUALITY_SCORE: Math.round(rng.uniform(0.5, 1) * 100) / 100,
        LAST_UPDATED: Math.min(window.end, date + rng.int(0, 20) * DAY + rng.int(0, 86399)),
      });
    }
  }
  if (rng.chance(0.25)) {
    const n = rng.int(1, 3);
    for (let k = 0; k < n; k++) {
      const date = from + Math.floor(rng.next() * span);
      const churned = person.churnAt !== null && date > person.churnAt - 30 * DAY;
      const score = clamp(rng.normal((person.mood - 3) / 2 - (churned ? 0.3 : 0), 0.3), -1, 1);
      const mentions = 1 + rng.poisson(8);
      const pos = Math.round(mentions * clamp(0.5 + score / 2 - 0.1, 0, 1) * rng.uniform(0.8, 1));
      const neg = Math.round((mentions - pos) * clamp(0.5 - score / 2 + 0.1, 0, 1));
      const type = rng.pick(['BRAND', 'BRAND', 'PRODUCT', 'SERVICE', 'COMPETITOR']);
      const keywords = score > 0.2 ? ['love', 'great quality', 'fast delivery'] : score < -0.2 ? ['disappointed', 'late delivery', 'refund'] : ['ok', 'price'];
      sinks.EXTERNAL_CUSTOMER_SENTIMENT.add({
        SENTIMENT_ID: sinks.EXTERNAL_CUSTOMER_SENTIMENT.nextId(),
        CUSTOMER_ID: customerId,
        DATA_SOURCE: rng.pick(['TWITTER', 'FACEBOOK', 'REDDIT', 'TRUSTPILOT']),
        SENTIMENT_DATE: date,
        SENTIMENT_TYPE: type,
        SENTIMENT_SCORE: Math.round(score * 100) / 100,
        SENTIMENT_MAGNITUDE: Math.round(clamp(Math.abs(score) * 0.8 + rng.uniform(0.05, 0.2), 0, 1) * 100) / 100,
        MENTION_COUNT: mentions,
        POSITIVE_MENTIONS: pos,
        NEGATIVE_MENTIONS: neg,
        NEUTRAL_MENTIONS: mentions - pos - neg,
        KEYWORDS: JSON.stringify(keywords.slice(0, rng.int(1, keywords.length))),
        CONTEXT: `${type.toLowerCase()} mentions on social media: ${keywords[0]}`,
      });
    }
  }
}
