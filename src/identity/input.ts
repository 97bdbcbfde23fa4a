// Loading person records for `c360 resolve`: CSV or Parquet with CUSTOMERS columns under their contract names or a
// common alias (the shared labelled datasets use first_name/surname/dob/city/email, FEBRL given_name/suburb/...).
import { extname } from 'node:path';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';

/** alias (lower-case, trimmed) -> CUSTOMERS contract column. */
export const COLUMN_ALIASES: Record<string, string> = {
  customer_id: 'CUSTOMER_ID', unique_id: 'CUSTOMER_ID', rec_id: 'CUSTOMER_ID', record_id: 'CUSTOMER_ID', id: 'CUSTOMER_ID',
  source_system: 'SOURCE_SYSTEM', source_dataset: 'SOURCE_SYSTEM', source: 'SOURCE_SYSTEM',
  tenant_id: 'TENANT_ID', tenant: 'TENANT_ID',
  first_name: 'FIRST_NAME', given_name: 'FIRST_NAME', forename: 'FIRST_NAME', fname: 'FIRST_NAME',
  last_name: 'LAST_NAME', surname: 'LAST_NAME', family_name: 'LAST_NAME', lname: 'LAST_NAME',
  email_address: 'EMAIL_ADDRESS', email: 'EMAIL_ADDRESS',
  phone_number: 'PHONE_NUMBER', phone: 'PHONE_NUMBER', mobile: 'PHONE_NUMBER', telephone: 'PHONE_NUMBER',
  date_of_birth: 'DATE_OF_BIRTH', dob: 'DATE_OF_BIRTH', birth_date: 'DATE_OF_BIRTH',
  gender: 'GENDER', sex: 'GENDER',
  address_line_1: 'ADDRESS_LINE_1', address_1: 'ADDRESS_LINE_1', address: 'ADDRESS_LINE_1', street: 'ADDRESS_LINE_1',
  city: 'CITY', suburb: 'CITY', town: 'CITY',
  state_code: 'STATE_CODE', state: 'STATE_CODE',
  zip_code: 'ZIP_CODE', zip: 'ZIP_CODE', postcode: 'ZIP_CODE', postal_code: 'ZIP_CODE',
  country_code: 'COUNTRY_CODE', country: 'COUNTRY_CODE',
};

export function readerSql(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return `read_parquet(${lit(path)})`;
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') return `read_csv(${lit(path)}, all_varchar = true, header = true)`;
  throw new UsageError(`Cannot read '${path}': use a .csv or .parquet file`);
}

/**
 * Creates `table` with one row per input record in file order: `rid` (0-based position) and the contract-named
 * columns found in the file. A FEBRL-style street_number is prefixed to the street address.
 */
export async function loadPersonRecords(engine: Engine, path: string, table: string): Promise<{ rows: number; mapped: Record<string, string> }> {
  await engine.run(`CREATE OR REPLACE TEMP VIEW id_raw_file AS SELECT * FROM ${readerSql(path)}`);
  const cols = (await engine.all<{ column_name: string }>('SELECT column_name FROM (DESCRIBE id_raw_file)')).map((c) => c.column_name);
  const mapped: Record<string, string> = {};
  for (const c of cols) {
    const target = COLUMN_ALIASES[c.trim().toLowerCase()];
    if (target && !Object.values(mapped).includes(target)) mapped[c] = target;
  }
  const streetNumber = cols.find((c) => c.trim().toLowerCase() === 'street_number');
  const select = Object.entries(mapped).map(([from, to]) => {
    if (to === 'ADDRESS_LINE_1' && streetNumber) {
      return `nullif(trim(concat_ws(' ', trim(CAST(${ident(streetNumber)} AS VARCHAR)), trim(CAST(${ident(from)} AS VARCHAR)))), '') AS ${ident(to)}`;
    }
    return `${ident(from)} AS ${ident(to)}`;
  });
  if (select.length === 0) throw new UsageError(`'${path}' has none of the CUSTOMERS columns (or aliases): ${cols.join(', ')}`);
  await engine.run(`CREATE OR REPLACE TABLE ${table} AS
SELECT (row_number() OVER () - 1)::BIGINT AS rid, ${select.join(', ')} FROM id_raw_file`);
  const rows = Number(await engine.scalar(`SELECT count(*) FROM ${table}`));
  return { rows, mapped };
}
