/**
 * Clicks, conversions and refunds in one table, one row per sender's event id (idempotency). IPs are kept
 * only as a keyed hash and a /24 or /48 prefix; the referrer only as its host; the landing URL as its path
 * and UTM parameters (and the name of a search-ad click parameter, without its value).
 */
export interface AffiliateEventsTable {
  id: string;
  type: 'click' | 'conversion' | 'refund';
  ts: string;
  affiliate_id: string | null;
  campaign_id: string | null;
  click_id: string | null;
  order_id: string | null;
  subject_id: string | null;
  amount: number | null;
  currency: string | null;
  coupon_code: string | null;
  ip_hash: string | null;
  ip_prefix: string | null;
  user_agent: string | null;
  referrer_host: string | null;
  landing_path: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  /**
   * The search-ad click parameter the landing URL carried (`gclid`, `msclkid` …), never its value: the click
   * came through an ad the affiliate paid for.
   */
  ad_click: string | null;
  /** The landing URL's host: the shop's own site, against which the referrer tells a click opened from it. */
  landing_host: string | null;
  country: string | null;
  new_customer: number | null;
  reason: string | null;
  received_at: string;
  /** Integer keys of the identifiers, which the indexes hold (storage/event-key.ts). */
  id_key: number;
  click_key: number | null;
  order_key: number | null;
  subject_key: number | null;
  ip_key: number | null;
}

/** The last event journal entry applied to `affiliate_events` (one row, id 1). */
export interface EventJournalAppliedTable {
  id: number;
  seq: number;
}
