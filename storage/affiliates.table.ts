import type { Generated } from 'kysely';

/** An affiliate (creator) the marketplace pays; `subject_id` is the creator's own data-subject id. */
export interface AffiliatesTable {
  id: string;
  name: string;
  subject_id: string | null;
  /** Keyed hash of the payout account: enough to spot accounts shared between affiliates. */
  payout_account_hash: string | null;
  /** 1 when the programme allows the affiliate to run search ads (its paid clicks are then no evidence). */
  search_ads_allowed: Generated<number>;
  created_at: string;
  updated_at: string;
}

/** Each coupon code belongs to one affiliate; codes are stored upper-case. */
export interface AffiliateCouponsTable {
  code: string;
  affiliate_id: string;
}
