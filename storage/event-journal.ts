/**
 * The event write path's journal, as everything that reads or erases affiliate events sees it. An event is
 * acknowledged (202) once it is durable in the journal, and reaches `affiliate_events` a little later, when the
 * apply thread moves it there: a reader that does not settle first misses events already acknowledged. Every
 * reader therefore takes the journal as a required dependency and reads through `readEvents`.
 */
export interface EventJournal {
  /** Resolves once every event acknowledged before the call can be read from `affiliate_events`. */
  settle(): Promise<void>;
  /**
   * Deletes every journal segment that holds an applied entry (erasure); false when one had to stay (it also
   * holds entries acknowledged since, and goes once they are applied).
   */
  truncate(): Promise<boolean>;
  /** Events acknowledged and not yet applied to `affiliate_events`. */
  readonly backlogEvents: number;
  /** Commits what it holds and stops its threads. */
  close(): Promise<void>;
}

/**
 * The one way to read affiliate events: settles the journal, then reads, so that the read sees every event
 * acknowledged before the call.
 */
export async function readEvents<T>(journal: EventJournal, read: () => Promise<T> | T): Promise<T> {
  await journal.settle();
  return read();
}
