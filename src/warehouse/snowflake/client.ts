// The thin Snowflake connection: connect with key-pair auth and run statements in order. All SQL comes from the
// pure renderers (setup.ts, load-plan.ts); nothing here decides what to run.
import { TransientError } from '../../runtime/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { resolvePrivateKey, type SnowflakeConnectionConfig } from './config.ts';
import type { PlannedStatement } from './load-plan.ts';

interface SfStatement { getNumUpdatedRows?(): number | undefined }
interface SfConnection {
  connectAsync(): Promise<unknown>;
  execute(o: { sqlText: string; complete: (err: Error | undefined, stmt: SfStatement, rows?: unknown[]) => void }): unknown;
  destroy(cb: (err: Error | undefined) => void): void;
}

export class SnowflakeSession {
  private constructor(private readonly conn: SfConnection) {}

  static async connect(config: SnowflakeConnectionConfig): Promise<SnowflakeSession> {
    const sdk = (await import('snowflake-sdk')).default as unknown as {
      configure(o: Record<string, unknown>): void;
      createConnection(o: Record<string, unknown>): SfConnection;
    };
    sdk.configure({ logLevel: 'ERROR' });
    const conn = sdk.createConnection({
      account: config.account,
      username: config.username,
      database: config.database,
      warehouse: config.warehouse,
      role: config.role,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: await resolvePrivateKey(config),
      privateKeyPass: config.passphrase,
    });
    try {
      await conn.connectAsync();
    } catch (e) {
      throw new TransientError(`Connecting to Snowflake account ${config.account} failed: ${(e as Error).message}`);
    }
    return new SnowflakeSession(conn);
  }

  execute(sql: string): Promise<{ rows: unknown[]; updated?: number }> {
    return new Promise((resolve, reject) => {
      this.conn.execute({
        sqlText: sql,
        complete: (err, stmt, rows) => (err ? reject(err) : resolve({ rows: rows ?? [], updated: stmt.getNumUpdatedRows?.() })),
      });
    });
  }

  /** Runs statements in order; on failure inside an explicit transaction, rolls back and names the failing step. */
  async run(plan: readonly PlannedStatement[], log?: Logger): Promise<void> {
    let open = false;
    for (const p of plan) {
      try {
        const r = await this.execute(p.sql);
        if (p.sql === 'BEGIN TRANSACTION') open = true;
        if (p.sql === 'COMMIT') open = false;
        log?.info(`snowflake ${p.label}`, { updated: r.updated });
      } catch (e) {
        if (open) await this.execute('ROLLBACK').catch(() => undefined);
        throw new Error(`Snowflake step ${p.label} failed: ${(e as Error).message}`);
      }
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.conn.destroy(() => resolve()));
  }
}
