import type { Kysely } from 'kysely';
import type { Actor, Database } from '../storage/index.ts';
import type { Logger } from './logger.ts';
import type { Role } from './roles.ts';

/** The caller behind an authenticated request. */
interface RequestActor extends Actor {
  role: Role;
  keyId: string;
}

/** Hono's environment for every route: request-scoped values set by the app's middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    db: Kysely<Database>;
    clock: () => Date;
    logger: Logger;
    actor: RequestActor;
  };
}
