// Snowflake: unquoted upper-case identifiers (Snowflake upper-cases unquoted names, so the model's upper-case names
// need no quotes; anything else is quoted to keep its case), NUMBER/FLOAT/TIMESTAMP_NTZ types, inline comments,
// informational PRIMARY KEY, CLUSTER BY, transient staging tables, COPY INTO from the external stage.
import { quoteString, type Dialect, type TableDdl, type ViewDdl } from '../dialect.ts';
import type { LogicalType } from '../types.ts';
import { PARTITION_COLUMN } from '../../catalogue/partitioned.ts';

const RESERVED = new Set(
  ('ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE ' +
    'CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR FROM FULL GRANT ' +
    'GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE LOCALTIME ' +
    'LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS SAMPLE ' +
    'SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING VALUES VIEW ' +
    'WHEN WHENEVER WHERE WITH').split(' '),
);

export function snowflakeIdent(name: string): string {
  return /^[A-Z_][A-Z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

export const snowflakeDialect: Dialect = {
  name: 'snowflake',
  ident: snowflakeIdent,
  qualified: (schema, name) => `${snowflakeIdent(schema)}.${snowflakeIdent(name)}`,
  type(t: LogicalType): string {
    switch (t.kind) {
      case 'varchar': return 'VARCHAR';
      case 'integer': return 'NUMBER(10,0)';
      case 'bigint': return 'NUMBER(19,0)';
      case 'double': return 'FLOAT';
      case 'decimal': return `NUMBER(${t.precision},${t.scale})`;
      case 'date': return 'DATE';
      case 'timestamp': return 'TIMESTAMP_NTZ';
      case 'boolean': return 'BOOLEAN';
    }
  },
  string: quoteString,
  date: (iso) => `${quoteString(iso)}::DATE`,
  dateText: (expr) => `TO_VARCHAR(${expr}, 'YYYY-MM-DD')`,
  createSchema: (schema, comment) => [`CREATE SCHEMA IF NOT EXISTS ${snowflakeIdent(schema)} COMMENT = ${quoteString(comment)}`],
  createTable(t: TableDdl): string[] {
    const q = `${snowflakeIdent(t.schema)}.${snowflakeIdent(t.name)}`;
    const keys = new Set(t.staging ? [] : t.primaryKey);
    const lines = t.columns.map((c) => `  ${snowflakeIdent(c.name)} ${this.type(c.type)}${keys.has(c.name) ? ' NOT NULL' : ''} COMMENT ${quoteString(c.comment)}`);
    if (!t.staging && t.primaryKey.length) lines.push(`  CONSTRAINT ${snowflakeIdent(`PK_${t.name}`)} PRIMARY KEY (${t.primaryKey.map(snowflakeIdent).join(', ')})`);
    const cluster = !t.staging && t.clusterBy.length ? `\nCLUSTER BY (${t.clusterBy.map(snowflakeIdent).join(', ')})` : '';
    const kind = t.staging ? 'TRANSIENT TABLE' : 'TABLE';
    return [`CREATE ${kind} IF NOT EXISTS ${q} (\n${lines.join(',\n')}\n)${cluster}\nCOMMENT = ${quoteString(t.comment)}`];
  },
  createView(v: ViewDdl): string[] {
    // Masking policies set on the tables' columns apply to the view's reads of them; COPY GRANTS keeps grants on replace.
    const cols = v.columns.map((c) => `  ${snowflakeIdent(c.name)} COMMENT ${quoteString(c.comment)}`);
    return [`CREATE OR REPLACE VIEW ${snowflakeIdent(v.schema)}.${snowflakeIdent(v.name)} (\n${cols.join(',\n')}\n)\nCOPY GRANTS\nCOMMENT = ${quoteString(v.comment)}\nAS\n${v.select}`];
  },
  readSnapshot({ columns, source }) {
    if (!source.stagePath) throw new Error('Snowflake snapshot read needs a stage path');
    // Staged Parquet files queried in place with the stage's file format; field names are case-sensitive inside $1.
    const select = columns.map((c) => `$1:"${c.name}"::${this.type(c.type)} AS ${snowflakeIdent(c.name)}`);
    const until = source.until ? `\nWHERE $1:"${source.until.column}"::DATE <= ${this.date(source.until.date)}` : '';
    // A daily load of a day-partitioned dataset lists only the changed days' folders (dates need no escaping).
    // A batch log's new batches: their file names (batch-N.parquet: only the dot needs escaping).
    const pattern = source.days ? `.*/${PARTITION_COLUMN}=(${source.days.join('|')})/.*[.]parquet`
      : source.names ? `.*/(${source.names.map((n) => n.replaceAll('.', '[.]')).join('|')})` : '.*[.]parquet';
    return `SELECT ${select.join(', ')}\nFROM ${source.stagePath} (PATTERN => '${pattern}')${until}`;
  },
  copyIntoStaging({ staging, columns, loadId, asOf, source }) {
    if (!source.stagePath) throw new Error(`Snowflake staging load of ${staging} needs a stage path`);
    const meta = new Set(['_LOAD_ID', '_AS_OF_DATE']);
    const data = columns.filter((c) => !meta.has(c.name));
    // Parquet field names are case-sensitive inside $1; the Gold files use the model's upper-case names.
    const select = data.map((c) => `    $1:"${c.name}"::${this.type(c.type)}`);
    return `COPY INTO ${staging} (${[...data.map((c) => snowflakeIdent(c.name)), '_LOAD_ID', '_AS_OF_DATE'].join(', ')})
FROM (
  SELECT
${[...select, `    ${quoteString(loadId)}`, `    ${quoteString(asOf)}::DATE`].join(',\n')}
  FROM ${source.stagePath}
)
FILE_FORMAT = (TYPE = PARQUET)
PATTERN = '.*[.]parquet'
FORCE = TRUE`;
  },
};
