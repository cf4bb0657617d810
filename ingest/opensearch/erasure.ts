// Erasure in OpenSearch: a subject's copies of logs and browser telemetry are deleted by every identifier the
// request gives (the keyed hashes of its e-mail and IP address, its id and pseudonym as the telemetry's user,
// and the sessions that user had), with delete-by-query, and reported per index pattern in the request's steps.
import type { Kysely } from 'kysely';
import type { ExternalStore, SubjectKeys } from '../../retention/index.ts';
import type { Database } from '../../storage/index.ts';
import type { SearchSink } from './client.ts';

const CATEGORY = { logs: 'server-logs', telemetry: 'browser-telemetry' } as const;

export function searchErasure(sink: SearchSink, db: Kysely<Database>, prefix = 'vigil'): ExternalStore {
  return {
    name: 'opensearch',
    async erase(keys: SubjectKeys) {
      const users = [keys.subjectId, keys.subjectPseudonym];
      const sessions = await db
        .selectFrom('browser_telemetry')
        .select('session_id')
        .distinct()
        .where('user_id', 'in', users)
        .where('session_id', 'is not', null)
        .execute();
      const hashes = [keys.emailHash, keys.ipHash].filter((h): h is string => h !== undefined);
      const counts = { logs: 0, telemetry: 0 };
      const add = (found: Record<'logs' | 'telemetry', number>) => {
        counts.logs += found.logs;
        counts.telemetry += found.telemetry;
      };
      if (hashes.length > 0) add(await sink.eraseBy('identifier_hashes', hashes));
      add(await sink.eraseBy('user_id', users));
      const sessionIds = sessions.map((s) => s.session_id).filter((s): s is string => s !== null);
      if (sessionIds.length > 0) add(await sink.eraseBy('session_id', sessionIds));
      return (['logs', 'telemetry'] as const).map((kind) => ({
        store: `opensearch:${prefix}-${kind}-*`,
        category: CATEGORY[kind],
        rows: counts[kind],
      }));
    },
  };
}
