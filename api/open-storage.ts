import { openPostgresStorage, openSqlite, type Storage } from '../storage/index.ts';
import { type Config, ConfigError } from './env.ts';

/**
 * Opens the database the configuration names: PostgreSQL with `DATABASE_URL` (replicas share it, so they must
 * share `VIGIL_SECRET` too: a secret of one data directory would hash and sign unlike the others), else the
 * SQLite file in the data directory.
 */
export async function openStorage(
  config: Pick<Config, 'databaseUrl' | 'secret' | 'dataDir'>,
): Promise<Storage> {
  if (config.databaseUrl === undefined) return openSqlite(config.dataDir);
  if (config.secret === undefined) {
    throw new ConfigError([
      {
        variable: 'VIGIL_SECRET',
        message:
          'required with DATABASE_URL: every replica on the database must hash and sign with the same secret',
      },
    ]);
  }
  return openPostgresStorage(config.databaseUrl);
}
