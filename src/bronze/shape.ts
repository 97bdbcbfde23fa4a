// The table-shape check on every drop file: how many of the contract's columns the file has, and a refusal when the
// file plainly belongs to another table (a CUSTOMER_TRANSACTIONS file ingested as CUSTOMERS would otherwise land its
// rows in Bronze as customers missing most fields, and Silver would count them as customers).
import type { TableContract } from '../../schemas/contract.ts';
import { ALL_CONTRACTS } from '../../schemas/index.ts';
import { bindColumns } from '../contracts/validation-sql.ts';
import { UsageError } from '../runtime/errors.ts';

export interface Shape {
  /** Contract columns the file has / the contract's column count. */
  matched: number;
  contractColumns: number;
  receivedColumns: number;
}

/** The caller's input is wrong (exit 2): retrying the same file cannot help. */
export class WrongTableError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'WrongTableError';
  }
}

function matchedOf(contract: TableContract, received: readonly string[]): number {
  return bindColumns(contract, received).bound.filter((b) => b.received !== undefined).length;
}

/**
 * The file's shape against its contract. Throws WrongTableError when the file has none of the contract's columns, or
 * when another contract holds most of the file's columns and twice as many as this one, which holds under half.
 */
export function checkShape(contract: TableContract, received: readonly string[], file: string): Shape {
  const matched = matchedOf(contract, received);
  const shape = { matched, contractColumns: contract.columns.length, receivedColumns: received.length };
  if (received.length === 0) return shape;
  // A file c360 wrote (Bronze or quarantine, say a lake file given as --file): its metadata columns would be taken as
  // extra fields, so its records would hash anew and land in Bronze a second time.
  const own = received.filter((r) => /^_(record_hash|load_id)$/i.test(r.trim()));
  if (own.length === 2) {
    throw new WrongTableError(
      `'${file}' is a file c360 wrote (it has ${own.join(' and ')}), not a source drop: its records are in a lake already. To ingest corrected records again, leave out the columns starting with '_'. Nothing was ingested`,
    );
  }
  const best = ALL_CONTRACTS.filter((c) => c.name !== contract.name)
    .map((c) => ({ c, n: matchedOf(c, received) }))
    .sort((a, b) => b.n - a.n)[0];
  const fix = best && best.n > 0 ? ` It looks like a ${best.c.name} drop (${best.n} of its ${best.c.columns.length} columns): ingest it with --table ${best.c.name}.` : '';
  if (matched === 0) {
    throw new WrongTableError(`'${file}' has none of ${contract.name}'s ${contract.columns.length} columns (it has: ${received.slice(0, 8).join(', ')}${received.length > 8 ? ', ...' : ''}).${fix} Nothing was ingested`);
  }
  // Plainly another table's: it holds most of the file's columns, twice as many as this contract, which holds few.
  if (best && best.n >= 2 * matched && matched * 2 < received.length && best.n * 2 > received.length) {
    throw new WrongTableError(
      `'${file}' has only ${matched} of ${contract.name}'s ${contract.columns.length} columns among its ${received.length}.${fix} Nothing was ingested`,
    );
  }
  return shape;
}
