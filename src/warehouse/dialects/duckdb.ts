// DuckDB: identifiers always quoted (DuckDB keeps case; quoting makes the upper-case model names explicit), comments
// as COMMENT ON statements, no PRIMARY KEY index (the loader checks key uniqueness in staging instead: an ART index on
// the large facts costs more load time than it saves) and clustering as the insert order.
// Staging tables are session temp tables (DuckDB's counterpart of Snowflake's transient tables): in memory, spilling
// to the temp directory, never written to the warehouse file, so a load writes each row to the file once.
import { quoteString, type Dialect, type TableDdl, type ViewDdl } from '../dialect.ts';
import { STAGING_SCHEMA, type LogicalType } from '../types.ts';

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const qualified = (schema: string, name: string) =>
  schema === STAGING_SCHEMA ? `temp.main.${ident(`${STAGING_SCHEMA}__${name}`)}` : `${ident(schema)}.${ident(name)}`;

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  ident,
  qualified,
  type(t: LogicalType): string {
    switch (t.kind) {
      case 'varchar': return 'VARCHAR';
      case 'integer': return 'INTEGER';
      case 'bigint': return 'BIGINT';
      case 'double': return 'DOUBLE';
      case 'decimal': return `DECIMAL(${t.precision},${t.scale})`;
      case 'date': return 'DATE';
      case 'timestamp': return 'TIMESTAMP';
      case 'boolean': return 'BOOLEAN';
    }
  },
  string: quoteString,
  date: (iso) => `DATE ${quoteString(iso)}`,
  dateText: (expr) => `strftime(${expr}, '%Y-%m-%d')`,
  createSchema: (schema) => (schema === STAGING_SCHEMA ? [] : [`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`]),
  createTable(t: TableDdl): string[] {
    const q = qualified(t.schema, t.name);
    if (t.schema === STAGING_SCHEMA) {
      const cols = t.columns.map((c) => `  ${ident(c.name)} ${this.type(c.type)}`);
      return [`CREATE TEMP TABLE IF NOT EXISTS ${ident(`${STAGING_SCHEMA}__${t.name}`)} (\n${cols.join(',\n')}\n)`];
    }
    const keys = new Set(t.staging ? [] : t.primaryKey);
    const cols = t.columns.map((c) => `  ${ident(c.name)} ${this.type(c.type)}${keys.has(c.name) ? ' NOT NULL' : ''}`);
    return [
      `CREATE TABLE IF NOT EXISTS ${q} (\n${cols.join(',\n')}\n)`,
      `COMMENT ON TABLE ${q} IS ${quoteString(t.comment)}`,
      ...t.columns.map((c) => `COMMENT ON COLUMN ${q}.${ident(c.name)} IS ${quoteString(c.comment)}`),
    ];
  },
  createView(v: ViewDdl): string[] {
    const q = qualified(v.schema, v.name);
    return [
      `CREATE OR REPLACE VIEW ${q} AS\n${v.select}`,
      `COMMENT ON VIEW ${q} IS ${quoteString(v.comment)}`,
      ...v.columns.map((c) => `COMMENT ON COLUMN ${q}.${ident(c.name)} IS ${quoteString(c.comment)}`),
    ];
  },
  readSnapshot({ columns, source }) {
    if (!source.files) throw new Error('DuckDB snapshot read needs Parquet files');
    // No files: the changed days of a day-partitioned dataset are all gone (their rows are to be removed).
    if (source.files.length === 0) return `SELECT ${columns.map((c) => `CAST(NULL AS ${this.type(c.type)}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
    const missing = new Set(source.missingColumns ?? []);
    const select = columns.map((c) => `${missing.has(c.name) ? `CAST(NULL AS ${this.type(c.type)})` : `CAST(${ident(c.name)} AS ${this.type(c.type)})`} AS ${ident(c.name)}`);
    return `SELECT ${select.join(', ')}\nFROM read_parquet([${source.files.map(quoteString).join(', ')}], union_by_name = true, hive_partitioning = false)`;
  },
  copyIntoStaging({ staging, columns, loadId, asOf, source, orderBy }) {
    if (!source.files?.length) throw new Error(`DuckDB staging load of ${staging} needs Parquet files`);
    const missing = new Set(source.missingColumns ?? []);
    const meta = new Set(['_LOAD_ID', '_AS_OF_DATE']);
    const data = columns.filter((c) => !meta.has(c.name));
    const select = data.map((c) => (missing.has(c.name) ? `CAST(NULL AS ${this.type(c.type)})` : `CAST(${ident(c.name)} AS ${this.type(c.type)})`));
    const files = `[${source.files.map(quoteString).join(', ')}]`;
    const sortable = (orderBy ?? []).filter((c) => !missing.has(c));
    const order = sortable.length ? `\nORDER BY ${sortable.map(ident).join(', ')}` : '';
    return `INSERT INTO ${staging} (${[...data.map((c) => ident(c.name)), ident('_LOAD_ID'), ident('_AS_OF_DATE')].join(', ')})
SELECT ${[...select, quoteString(loadId), `DATE ${quoteString(asOf)}`].join(', ')}
FROM read_parquet(${files}, union_by_name = true, hive_partitioning = false)${order}`;
  },
};
