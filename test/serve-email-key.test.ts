// The profile API's e-mail key in JavaScript equals identity resolution's DuckDB macros, address by address: a lookup
// by e-mail finds exactly the people whose golden address has the same key.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { macroSql } from '../src/identity/standardise.ts';
import { emailKey } from '../src/serving/email-key.ts';

let e: Engine;
beforeAll(async () => {
  e = await Engine.open();
  for (const sql of macroSql().filter((s) => /MACRO c360_email/.test(s))) await e.run(sql);
});
afterAll(() => e.close());

const ADDRESSES = [
  'ann@example.com', '  Ann@Example.COM ', 'a.n.n+news@gmail.com', 'ANN.X+1+2@googlemail.com', 'a.b+c@outlook.com', 'a.b+c@yahoo.com',
  'x+y@proton.me', "o'neil@example.co.uk", 'first%last@sub.example.org', 'a-b_c@x-y.io', '+tag@gmail.com', '.@gmail.com',
  'not-an-email', 'a@b', 'a@@example.com', 'a@example.c', 'user@exa_mple.com', '', '   ', 'ümlaut@example.com', 'a@example.com\n',
  'name@sub.gmail.com', 'x@ICLOUD.com', 'x+y@me.com', 'a.b.c+@fastmail.com', 'email:bob@example.com',
];

it('emailKey equals c360_email_key(c360_email_norm(x)) for every address', async () => {
  const rows = await e.all(`SELECT x, c360_email_key(c360_email_norm(x)) AS k FROM (VALUES ${ADDRESSES.map((a, i) => `(${i}, ${lit(a)})`).join(', ')}) t(i, x) ORDER BY i`);
  const sql = rows.map((r) => [r.x, r.k ?? null]);
  expect(ADDRESSES.map((a) => [a, emailKey(a)])).toEqual(sql);
  // the cases that matter for lookups are there: aliases folded, non-addresses refused
  expect(emailKey('A.N.N+news@GoogleMail.com')).toBe('ann@gmail.com');
  expect(emailKey('a@b')).toBeNull();
});
