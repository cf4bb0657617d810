import type { Selectable } from 'kysely';

/** A payout request for one affiliate and period; scored before any money leaves. */
export interface PayoutsTable {
  id: string;
  affiliate_id: string;
  period_start: string;
  period_end: string;
  amount: number;
  currency: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export type PayoutRow = Selectable<PayoutsTable>;
