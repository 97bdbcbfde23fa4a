// Synthetic person records with known duplicates, generated in DuckDB (deterministic: hash-based, no RNG state).
// Used by the scale benchmark and by tests. Duplicates carry realistic noise: typos, nicknames, missing and
// re-formatted emails and phones, moved addresses, the odd mistyped birth date.
import type { Engine } from '../engine/duckdb.ts';

const FIRST = [
  'james', 'mary', 'robert', 'patricia', 'john', 'jennifer', 'michael', 'linda', 'david', 'elizabeth', 'william', 'barbara',
  'richard', 'susan', 'joseph', 'jessica', 'thomas', 'sarah', 'charles', 'karen', 'christopher', 'lisa', 'daniel', 'nancy',
  'matthew', 'betty', 'anthony', 'margaret', 'mark', 'sandra', 'donald', 'ashley', 'steven', 'kimberly', 'paul', 'emily',
  'andrew', 'donna', 'joshua', 'michelle', 'kenneth', 'carol', 'kevin', 'amanda', 'brian', 'dorothy', 'george', 'melissa',
  'timothy', 'deborah', 'ronald', 'stephanie', 'edward', 'rebecca', 'jason', 'sharon', 'jeffrey', 'laura', 'ryan', 'cynthia',
  'jacob', 'kathleen', 'gary', 'amy', 'nicholas', 'angela', 'eric', 'shirley', 'jonathan', 'anna', 'stephen', 'brenda',
  'larry', 'pamela', 'justin', 'emma', 'scott', 'nicole', 'brandon', 'helen', 'benjamin', 'samantha', 'samuel', 'katherine',
  'gregory', 'christine', 'alexander', 'debra', 'frank', 'rachel', 'patrick', 'carolyn', 'raymond', 'janet', 'jack', 'maria',
  'dennis', 'olivia', 'jerry', 'heather', 'tyler', 'diane', 'aaron', 'julie', 'jose', 'joyce', 'adam', 'victoria', 'nathan',
  'kelly', 'henry', 'christina', 'zachary', 'lauren', 'douglas', 'joan', 'peter', 'evelyn', 'kyle', 'judith', 'noah', 'megan',
  'ethan', 'andrea', 'jeremy', 'cheryl', 'walter', 'hannah', 'christian', 'jacqueline', 'keith', 'martha', 'roger', 'gloria',
  'terry', 'teresa', 'austin', 'ann', 'sean', 'sara', 'gerald', 'madison', 'carl', 'frances', 'harold', 'kathryn', 'dylan',
  'janice', 'arthur', 'jean', 'lawrence', 'abigail', 'jordan', 'alice', 'jesse', 'judy', 'bryan', 'sophia', 'billy', 'grace',
  'bruce', 'denise', 'gabriel', 'amber', 'joe', 'doris', 'logan', 'marilyn', 'alan', 'danielle', 'juan', 'beverly', 'albert',
  'isabella', 'willie', 'theresa', 'elijah', 'diana', 'wayne', 'natalie', 'randy', 'brittany', 'vincent', 'charlotte', 'mason',
  'marie', 'roy', 'kayla', 'ralph', 'alexis', 'bobby', 'lori', 'russell', 'zoe', 'bradley', 'mia', 'philip', 'ava', 'eugene',
];
const NICK: Record<string, string> = { robert: 'bob', william: 'bill', richard: 'rick', james: 'jim', michael: 'mike', thomas: 'tom', elizabeth: 'liz', jennifer: 'jenny', katherine: 'kate', joseph: 'joe', daniel: 'dan', christopher: 'chris', margaret: 'maggie', samuel: 'sam', alexander: 'alex', nicholas: 'nick', edward: 'ed', anthony: 'tony', benjamin: 'ben', matthew: 'matt' };
const SYL = ['an', 'ber', 'cal', 'dor', 'el', 'fer', 'gan', 'hol', 'is', 'jen', 'kin', 'lam', 'mor', 'nor', 'ol', 'par', 'quin', 'ros', 'sal', 'tor', 'ur', 'van', 'wel', 'yor', 'zan', 'bro', 'cha', 'dun', 'ford', 'gro', 'ham', 'ley', 'man', 'son', 'ton', 'wood'];
const CITIES = Array.from({ length: 150 }, (_, i) => `${SYL[i % SYL.length]}${SYL[(i * 7 + 3) % SYL.length]}ville`);
const STREETS = ['main street', 'oak avenue', 'park road', 'maple drive', 'cedar lane', 'elm street', 'high street', 'church road', 'mill lane', 'station road', 'victoria avenue', 'green lane', 'king street', 'queen street', 'north road', 'london road'];
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'mail.com', 'proton.me', 'aol.com'];

const arr = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/**
 * Creates `table` (rid, SOURCE_SYSTEM, CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH,
 * ADDRESS_LINE_1, CITY, ZIP_CODE, COUNTRY_CODE, PERSON_ID) with about `records` rows (~1.4 records per person).
 */
export async function generatePersons(engine: Engine, table: string, records: number, seed = 7): Promise<number> {
  const persons = Math.max(1, Math.round(records / 1.4));
  const h = (key: string) => `CAST(hash(p, ${seed}, '${key}') % 1000000007 AS BIGINT)`;
  const hk = (key: string) => `CAST(hash(p, k, ${seed}, '${key}') % 1000000007 AS BIGINT)`;
  await engine.run(`CREATE OR REPLACE TABLE ${table} AS
WITH lists AS (SELECT ${arr(FIRST)} AS fns, ${arr(SYL)} AS syl, ${arr(CITIES)} AS cities, ${arr(STREETS)} AS streets, ${arr(DOMAINS)} AS domains,
  MAP(${arr(Object.keys(NICK))}, ${arr(Object.values(NICK))}) AS nick),
persons AS (
  SELECT p,
    fns[1 + ${h('fn')} % len(fns)] AS fn,
    syl[1 + ${h('l1')} % len(syl)] || syl[1 + ${h('l2')} % len(syl)] || CASE WHEN ${h('l3')} % 3 = 0 THEN syl[1 + ${h('l4')} % len(syl)] ELSE '' END AS ln,
    DATE '1940-01-01' + CAST(${h('dob')} % 23000 AS INTEGER) AS dob,
    CAST(200 + ${h('ph1')} % 700 AS VARCHAR) || lpad(CAST(${h('ph2')} % 10000000 AS VARCHAR), 7, '0') AS phone,
    domains[1 + ${h('dom')} % len(domains)] AS domain,
    CAST(${h('en')} % 100 AS VARCHAR) AS enum,
    CAST(1 + ${h('no')} % 999 AS VARCHAR) || ' ' || streets[1 + ${h('st')} % len(streets)] AS addr,
    1 + ${h('city')} % len(cities) AS ci,
    1 + (CASE WHEN ${h('c1')} % 10 < 3 THEN 1 ELSE 0 END) + (CASE WHEN ${h('c2')} % 10 < 1 THEN 1 ELSE 0 END) AS copies,
    nick, cities
  FROM range(${persons}) t(p), lists
),
recs AS (SELECT persons.*, k FROM persons, range(copies) r(k)),
noisy AS (
  SELECT *,
    CASE WHEN k = 0 THEN fn
         WHEN ${hk('f')} % 10 < 2 THEN left(fn, CAST(${hk('fp')} % length(fn) AS INTEGER)) || substr(fn, CAST(${hk('fp')} % length(fn) AS INTEGER) + 2)
         WHEN ${hk('f')} % 10 < 3 THEN coalesce(nick[fn], fn)
         WHEN ${hk('f')} % 10 < 4 THEN NULL
         ELSE fn END AS fn2,
    CASE WHEN k = 0 THEN ln
         WHEN ${hk('l')} % 10 < 2 THEN left(ln, CAST(${hk('lp')} % length(ln) AS INTEGER)) || substr(ln, CAST(${hk('lp')} % length(ln) AS INTEGER) + 2)
         ELSE ln END AS ln2,
    CASE WHEN k > 0 AND ${hk('d')} % 20 = 0 THEN dob + 1 WHEN k > 0 AND ${hk('d')} % 20 = 1 THEN NULL ELSE dob END AS dob2,
    CASE WHEN k > 0 AND ${hk('e')} % 10 < 3 THEN NULL ELSE fn || '.' || ln || enum || '@' || domain END AS email,
    CASE WHEN ${hk('p')} % 10 < 2 THEN NULL
         WHEN ${hk('p')} % 10 < 5 THEN '(' || left(phone, 3) || ') ' || substr(phone, 4, 3) || '-' || right(phone, 4)
         ELSE '+1 ' || phone END AS phone2,
    CASE WHEN k > 0 AND ${hk('m')} % 10 < 2 THEN 1 + CAST(${hk('mc')} % len(cities) AS INTEGER) ELSE ci END AS ci2
  FROM recs
)
SELECT (row_number() OVER (ORDER BY p, k) - 1)::BIGINT AS rid,
  ['CRM', 'ECOMMERCE', 'POS'][1 + (p + k) % 3] AS SOURCE_SYSTEM,
  'S' || lpad(CAST(row_number() OVER (ORDER BY p, k) AS VARCHAR), 9, '0') AS CUSTOMER_ID,
  CASE WHEN k % 2 = 0 THEN upper(left(fn2, 1)) || substr(fn2, 2) ELSE upper(fn2) END AS FIRST_NAME,
  upper(left(ln2, 1)) || substr(ln2, 2) AS LAST_NAME,
  CASE WHEN k = 1 AND email IS NOT NULL THEN upper(email) ELSE email END AS EMAIL_ADDRESS,
  phone2 AS PHONE_NUMBER,
  dob2 AS DATE_OF_BIRTH,
  CASE WHEN ci2 = ci THEN addr ELSE CAST(1 + ${hk('na')} % 999 AS VARCHAR) || ' new street' END AS ADDRESS_LINE_1,
  cities[ci2] AS CITY,
  lpad(CAST(10000 + (ci2 * 211) % 89999 AS VARCHAR), 5, '0') AS ZIP_CODE,
  'US' AS COUNTRY_CODE,
  p AS PERSON_ID
FROM noisy ORDER BY rid`);
  return Number(await engine.scalar(`SELECT count(*) FROM ${table}`));
}
