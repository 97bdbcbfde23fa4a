import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Engine } from '../src/engine/duckdb.ts';
import { installMacros, phoneTable } from '../src/identity/standardise.ts';
import { toE164, regionOf } from '../src/identity/phone.ts';
import { soundex } from '../src/identity/phonetic.ts';
import { canonicalGivenName } from '../src/identity/nicknames.ts';
import { standardiseAddress } from '../src/identity/address.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
  await installMacros(engine);
});
afterAll(() => engine.close());

const one = async (sql: string, ...params: (string | null)[]) => engine.scalar(sql, params as never);

describe('emails', () => {
  it('trims and lower-cases valid addresses; invalid syntax becomes null', async () => {
    expect(await one('SELECT c360_email_norm($1)', '  John.Smith@Example.ORG ')).toBe('john.smith@example.org');
    expect(await one('SELECT c360_email_norm($1)', 'not-an-email')).toBeNull();
    expect(await one('SELECT c360_email_norm($1)', 'a@b')).toBeNull();
  });
  it('gmail dots and plus tags form the match key, the address itself is untouched', async () => {
    expect(await one('SELECT c360_email_key(c360_email_norm($1))', 'J.O.Smith+shop@GoogleMail.com')).toBe('josmith@gmail.com');
    expect(await one('SELECT c360_email_key($1)', 'j.smith+x@outlook.com')).toBe('j.smith@outlook.com');
    // Other providers: dots and plus signs are significant.
    expect(await one('SELECT c360_email_key($1)', 'j.smith+x@acme.com')).toBe('j.smith+x@acme.com');
  });
  it('flags placeholder emails', async () => {
    for (const e of ['test@test.com', 'noemail@gmail.com', 'someone@example.com', 'xxxx@yahoo.com', 'unknown@x.org']) {
      expect(await one('SELECT c360_email_placeholder($1)', e), e).toBe(true);
    }
    expect(await one('SELECT c360_email_placeholder($1)', 'maria.lopez@gmail.com')).toBe(false);
  });
});

describe('phones', () => {
  it('parses to E.164 with the default region from the country', () => {
    expect(toE164('(415) 555-2671', 'US').e164).toBe('+14155552671');
    expect(toE164('020 7946 0958', regionOf('GBR')).e164).toBe('+442079460958');
    expect(toE164('0412 345 678', regionOf('au')).e164).toBe('+61412345678');
    expect(toE164('+44 20 7946 0958', 'US').e164).toBe('+442079460958');
  });
  it('never throws: garbage is null, placeholders are flagged', () => {
    expect(toE164('call me', 'US')).toEqual({ e164: null, valid: false, placeholder: false });
    expect(toE164('12', 'US').e164).toBeNull();
    expect(toE164('555-555-5555', 'US').placeholder).toBe(true);
    expect(toE164('000-000-0000', 'US').placeholder).toBe(true);
    expect(toE164('123-456-7890', 'US').placeholder).toBe(true);
  });
  it('the SQL NANP fast path gives what libphonenumber gives', async () => {
    const raws = ['(212) 555-0134', '+1 212-555-0134', '2125550134', '1-212-555-0134', '212.555.0134', '+44 20 7946 0958', '020 7946 0958', '555-555-5555'];
    await engine.run(`CREATE OR REPLACE TABLE ph AS SELECT unnest([${raws.map((r) => `'${r}'`).join(', ')}]) AS raw, 'US' AS country`);
    await phoneTable(engine, 'SELECT raw, country FROM ph');
    const rows = await engine.all<{ raw: string; e164: string | null }>('SELECT raw, e164 FROM id_phone');
    for (const r of rows) {
      const expected = toE164(r.raw, 'US').e164;
      expect(r.e164, r.raw).toBe(expected);
    }
    expect(parsePhoneNumberFromString('(212) 555-0134', 'US')?.number).toBe('+12125550134');
  });
});

describe('names', () => {
  it('fold case, whitespace, punctuation and accents into a match key', async () => {
    expect(await one('SELECT c360_name_key($1)', '  José ')).toBe('jose');
    expect(await one('SELECT c360_name_key($1)', "O'Brien-Smith")).toBe('obriensmith');
    expect(await one('SELECT c360_name_key($1)', 'jac ob')).toBe('jacob');
    expect(await one('SELECT c360_name_key($1)', 'Unknown')).toBeNull();
    expect(await one('SELECT c360_name_key($1)', 'N/A')).toBeNull();
  });
  it('nicknames map to a canonical given name', () => {
    expect(canonicalGivenName('bob')).toBe('robert');
    expect(canonicalGivenName('liz')).toBe('elizabeth');
    expect(canonicalGivenName('robert')).toBe('robert');
    expect(canonicalGivenName('zebedee')).toBe('zebedee');
  });
  it('soundex codes', () => {
    expect(soundex('Robert')).toBe('R163');
    expect(soundex('Rupert')).toBe('R163');
    expect(soundex('Ashcraft')).toBe('A261');
    expect(soundex('Tymczak')).toBe('T522');
    expect(soundex('')).toBeNull();
  });
});

describe('addresses and postcodes', () => {
  it('abbreviates street types, folds accents, splits unit numbers', () => {
    expect(standardiseAddress('12 Main Street')).toEqual({ street: '12 main st', unit: null });
    expect(standardiseAddress('12 Main St., Apt 4B')).toEqual({ street: '12 main st', unit: '4b' });
    expect(standardiseAddress('Unit 7, 3 Rue Général Avenue')).toEqual({ street: '3 rue general ave', unit: '7' });
    expect(standardiseAddress('45 North Oak Road #12')).toEqual({ street: '45 n oak rd', unit: '12' });
    expect(standardiseAddress('  ')).toEqual({ street: null, unit: null });
  });
  it('normalises postcodes: US ZIP+4 to five digits, UK codes without spaces', async () => {
    expect(await one("SELECT c360_postcode($1, 'US')", '94105-1234')).toBe('94105');
    expect(await one("SELECT c360_postcode($1, 'GB')", 'sw1a 1aa')).toBe('SW1A1AA');
    expect(await one("SELECT c360_postcode($1, NULL)", ' 02139 ')).toBe('02139');
  });
});

describe('dates', () => {
  it('parses common layouts and rejects implausible birth dates', async () => {
    expect(await one('SELECT CAST(c360_birth_date($1) AS VARCHAR)', '1971-06-24')).toBe('1971-06-24');
    expect(await one('SELECT CAST(c360_birth_date($1) AS VARCHAR)', '19710624')).toBe('1971-06-24');
    expect(await one('SELECT CAST(c360_birth_date($1) AS VARCHAR)', '24/06/1971')).toBe('1971-06-24');
    expect(await one('SELECT c360_birth_date($1)', '19340231')).toBeNull(); // 31 February
    expect(await one('SELECT c360_birth_date($1)', '1850-01-01')).toBeNull();
    expect(await one('SELECT c360_birth_date($1)', '2999-01-01')).toBeNull();
    expect(await one('SELECT c360_birth_date($1)', 'soon')).toBeNull();
  });
});
