// The review UI's pages, rendered on the server with hono/jsx: sign-in, the queue, one payout. They work without
// JavaScript; `assets/review.js` adds keyboard shortcuts. Every value is escaped by JSX; every form carries the CSRF
// token; charts are inline SVG.
import { raw } from 'hono/html';
import type { Child, FC } from 'hono/jsx';
import type { PayoutView } from '../decisions.ts';
import type { Activity, QueueFilter, QueueRow } from './queries.ts';
import { DELAY_BINS } from './queries.ts';

const KEYS: [string, string][] = [
  ['j / k', 'next / previous payout in the queue'],
  ['Enter', 'open the selected payout'],
  ['/', 'search by affiliate'],
  ['a', 'approve the open payout'],
  ['r', 'reject the open payout (write the note first)'],
  ['e', 'escalate the open payout (write the note first)'],
  ['?', 'show or hide this help'],
];

const Layout: FC<{ title: string; who?: { name: string; role: string; csrf: string }; children?: Child }> = (
  props,
) => (
  <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Vigil review`}</title>
        <link rel="stylesheet" href="/review/assets/review.css" />
        <script src="/review/assets/review.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header>
          <a class="brand" href="/review/queue">
            Vigil review
          </a>
          {props.who ? (
            <form method="post" action="/review/sign-out" class="who">
              <span>
                {props.who.name} ({props.who.role})
              </span>
              <input type="hidden" name="_csrf" value={props.who.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
        {props.who ? (
          <dialog id="help" aria-labelledby="help-title">
            <h2 id="help-title">Keyboard shortcuts</h2>
            <dl>
              {KEYS.map(([key, what]) => (
                <>
                  <dt>
                    <kbd>{key}</kbd>
                  </dt>
                  <dd>{what}</dd>
                </>
              ))}
            </dl>
            <form method="dialog">
              <button type="submit">Close</button>
            </form>
          </dialog>
        ) : null}
      </body>
    </html>
  </>
);

const Alert: FC<{ message?: string }> = ({ message }) =>
  message ? (
    <p role="alert" class="alert">
      {message}
    </p>
  ) : null;

export const SignInPage: FC<{ csrf: string; error?: string }> = ({ csrf, error }) => (
  <Layout title="Sign in">
    <h1>Sign in</h1>
    <Alert message={error} />
    <form method="post" action="/review/sign-in" class="sign-in">
      <input type="hidden" name="_csrf" value={csrf} />
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" required autofocus />
      <button type="submit">Sign in</button>
    </form>
    <p class="hint">An analyst or admin key (npx vigil keys create --role analyst --name you).</p>
  </Layout>
);

const hours = (ms: number) => ms / 3_600_000;

function age(from: string, now: Date): string {
  const h = hours(now.getTime() - Date.parse(from));
  return h < 1
    ? `${Math.max(0, Math.round(h * 60))} min`
    : h < 48
      ? `${Math.round(h)} h`
      : `${Math.round(h / 24)} d`;
}

const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`;

const STATUS_WORDS: Record<string, string> = {
  flagged: 'Flagged',
  held: 'Held',
  escalated: 'Escalated',
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected',
  paid: 'Paid',
};

export interface QueueProps {
  who: { name: string; role: string; csrf: string };
  rows: QueueRow[];
  nextCursor: string | null;
  filter: QueueFilter;
  reasons: string[];
  counts: { flagged: number; held: number; escalated: number; oldest: string | null };
  slaHours: number;
  now: Date;
  message?: string;
  error?: string;
  /** The query string of the current filter, for the next page's link. */
  filterQuery: string;
}

export const QueuePage: FC<QueueProps> = (p) => (
  <Layout title="Review queue" who={p.who}>
    <h1>Review queue</h1>
    <Alert message={p.error} />
    {p.message ? (
      <p role="status" class="status">
        {p.message}
      </p>
    ) : null}
    <ul class="counts" aria-label="Payouts waiting, by status">
      <li>
        Flagged <strong>{p.counts.flagged}</strong>
      </li>
      <li>
        Held <strong>{p.counts.held}</strong>
      </li>
      <li>
        Escalated <strong>{p.counts.escalated}</strong>
      </li>
      <li>
        Oldest waiting{' '}
        <strong
          class={
            p.counts.oldest && hours(p.now.getTime() - Date.parse(p.counts.oldest)) > p.slaHours ? 'late' : ''
          }
        >
          {p.counts.oldest ? age(p.counts.oldest, p.now) : '—'}
        </strong>{' '}
        (review SLA {p.slaHours} h)
      </li>
    </ul>
    <search>
      <form method="get" action="/review/queue" class="filters">
        <span class="field">
          <label for="f-reason">Reason</label>
          <select id="f-reason" name="reason">
            <option value="">Any reason</option>
            {p.reasons.map((r) => (
              <option value={r} selected={p.filter.reason === r}>
                {r}
              </option>
            ))}
          </select>
        </span>
        <span class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any status</option>
            {(['flagged', 'held', 'escalated'] as const).map((s) => (
              <option value={s} selected={p.filter.status === s}>
                {STATUS_WORDS[s]}
              </option>
            ))}
          </select>
        </span>
        <span class="field">
          <label for="f-affiliate">Affiliate</label>
          <input id="f-affiliate" name="affiliate" value={p.filter.affiliate ?? ''} />
        </span>
        <span class="field">
          <label for="f-campaign">Campaign</label>
          <input id="f-campaign" name="campaign" value={p.filter.campaign ?? ''} />
        </span>
        <span class="field">
          <label for="f-min">Minimum score</label>
          <input
            id="f-min"
            name="minScore"
            type="number"
            min="0"
            max="1"
            step="0.05"
            value={p.filter.minScore === undefined ? '' : String(p.filter.minScore)}
          />
        </span>
        <span class="field">
          <label for="f-from">Requested from</label>
          <input id="f-from" name="from" type="date" value={p.filter.from?.slice(0, 10) ?? ''} />
        </span>
        <span class="field">
          <label for="f-to">to</label>
          <input id="f-to" name="to" type="date" value={p.filter.to?.slice(0, 10) ?? ''} />
        </span>
        <button type="submit">Filter</button>
      </form>
    </search>
    <form method="post" action="/review/bulk-approve">
      <input type="hidden" name="_csrf" value={p.who.csrf} />
      <table class="queue">
        <caption>Payouts waiting for a decision, riskiest first</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Select</span>
            </th>
            <th scope="col">Payout</th>
            <th scope="col">Affiliate</th>
            <th scope="col">Amount</th>
            <th scope="col">Risk</th>
            <th scope="col">Reasons</th>
            <th scope="col">Status</th>
            <th scope="col">Waiting</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.length === 0 ? (
            <tr>
              <td colspan={8}>Nothing waits for review with these filters.</td>
            </tr>
          ) : (
            p.rows.map((r) => {
              const state = r.reviewStatus === 'escalated' ? 'escalated' : r.status;
              const late = hours(p.now.getTime() - Date.parse(r.createdAt)) > p.slaHours;
              const bulk = r.status === 'flagged' && r.reviewStatus === 'pending' && r.score.level !== 'high';
              return (
                <tr data-row>
                  <td>
                    {bulk ? (
                      <input
                        type="checkbox"
                        name="ids"
                        value={r.payoutId}
                        id={`sel-${r.payoutId}`}
                        aria-label={`Select ${r.payoutId} for bulk approval`}
                      />
                    ) : null}
                  </td>
                  <td>
                    <a href={`/review/payouts/${encodeURIComponent(r.payoutId)}`}>{r.payoutId}</a>
                  </td>
                  <td>{r.affiliateId}</td>
                  <td class="num">{money(r.amount, r.currency)}</td>
                  <td class="num">
                    {r.score.risk.toFixed(2)} <span class={`level ${r.score.level}`}>{r.score.level}</span>
                  </td>
                  <td>{r.score.reasons.map((x) => x.code).join(', ')}</td>
                  <td>
                    {STATUS_WORDS[state] ?? state}
                    {r.assignedTo ? ` · ${r.assignedTo}` : ''}
                  </td>
                  <td class={late ? 'late' : ''}>
                    {age(r.createdAt, p.now)}
                    {late ? ' (over SLA)' : ''}
                  </td>
                </tr>
              );
            })
          )}
        </tbody>
      </table>
      <p class="bulk">
        <button type="submit">Approve selected</button> — only flagged payouts of low or medium risk can be
        approved in bulk.
      </p>
    </form>
    <nav aria-label="Pages">
      {p.filter.cursor ? <a href={`/review/queue?${p.filterQuery}`}>First page</a> : null}{' '}
      {p.nextCursor ? (
        <a
          href={`/review/queue?${p.filterQuery}${p.filterQuery ? '&' : ''}cursor=${p.nextCursor}`}
          rel="next"
        >
          Next page
        </a>
      ) : null}
    </nav>
    <p class="hint">
      Press <kbd>?</kbd> for keyboard shortcuts.
    </p>
  </Layout>
);

/** A percentile bar: the peers' range, the threshold that fired and where the affiliate's value falls. */
const PercentileBar: FC<{ percentile: number; label: string }> = ({ percentile, label }) => (
  <svg class="bar" width="200" height="18" viewBox="0 0 200 18" role="img" aria-label={label}>
    <rect x="0" y="6" width="200" height="6" rx="3" class="track" />
    <rect x="0" y="6" width={String(percentile * 2)} height="6" rx="3" class="fill" />
    <line x1={String(percentile * 2)} x2={String(percentile * 2)} y1="1" y2="17" class="mark" />
  </svg>
);

const DelayHistogram: FC<{ delays: number[] }> = ({ delays }) => {
  const max = Math.max(1, ...delays);
  const total = delays.reduce((a, b) => a + b, 0);
  return (
    <figure>
      <svg
        class="histogram"
        width="360"
        height="150"
        viewBox="0 0 360 150"
        role="img"
        aria-label={`Click-to-sale times of ${total} sales: ${DELAY_BINS.map((b, i) => `${b.label} ${delays[i]}`).join(', ')}`}
      >
        {DELAY_BINS.map((b, i) => {
          // Bars up to 80 px under a 30 px margin, so the tallest bar's count stays inside the chart.
          const h = Math.round(((delays[i] ?? 0) / max) * 80);
          return (
            <g>
              <rect x={String(10 + i * 58)} y={String(110 - h)} width="46" height={String(h)} class="fill" />
              <text x={String(33 + i * 58)} y={String(105 - h)} text-anchor="middle">
                {String(delays[i] ?? 0)}
              </text>
              <text x={String(33 + i * 58)} y="128" text-anchor="middle" class="axis">
                {b.label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>Time from click to sale ({total} sales with a known click)</figcaption>
    </figure>
  );
};

export interface PayoutProps {
  who: { name: string; role: string; csrf: string };
  payout: PayoutView;
  activity: Activity;
  earlier: {
    id: string;
    period_start: string;
    period_end: string;
    amount: number;
    currency: string;
    status: string;
    review: string | null;
    decided_by: string | null;
    risk: number | null;
  }[];
  slaHours: number;
  now: Date;
  error?: string;
  note?: string;
}

export const PayoutPage: FC<PayoutProps> = ({
  who,
  payout,
  activity,
  earlier,
  slaHours,
  now,
  error,
  note,
}) => {
  const score = payout.score;
  const waiting =
    payout.review.status === 'escalated' ||
    (payout.review.status === 'pending' && (payout.status === 'flagged' || payout.status === 'held'));
  const decidable = waiting && (payout.review.status !== 'escalated' || who.role === 'admin');
  const state = payout.review.status === 'pending' ? payout.status : payout.review.status;
  return (
    <Layout title={payout.id} who={who}>
      <p>
        <a href="/review/queue">← Review queue</a>
      </p>
      <h1>{payout.id}</h1>
      <Alert message={error} />
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <strong class="state">{STATUS_WORDS[state] ?? state}</strong>
          {payout.review.decidedBy ? ` by ${payout.review.decidedBy}` : ''}
          {payout.review.assignedTo ? ` · assigned to ${payout.review.assignedTo}` : ''}
        </dd>
        <dt>Amount</dt>
        <dd>{money(payout.amount, payout.currency)}</dd>
        <dt>Affiliate</dt>
        <dd>
          <a href={`/review/queue?affiliate=${encodeURIComponent(payout.affiliateId)}`}>
            {payout.affiliateId}
          </a>
        </dd>
        <dt>Period</dt>
        <dd>
          {payout.periodStart.slice(0, 10)} – {payout.periodEnd.slice(0, 10)}
        </dd>
        <dt>Requested</dt>
        <dd>
          {age(payout.createdAt, now)} ago (review SLA {slaHours} h)
        </dd>
        <dt>Risk</dt>
        <dd>
          {score ? (
            <>
              {score.risk.toFixed(2)} <span class={`level ${score.level}`}>{score.level}</span>
              {score.peers ? ` · compared with ${score.peers}` : ''}
            </>
          ) : (
            'not scored yet'
          )}
        </dd>
      </dl>
      {score?.modelNote ? <p class="hint">{score.modelNote}</p> : null}
      <h2>Reasons</h2>
      {score && score.reasons.length > 0 ? (
        <ul class="reasons">
          {score.reasons.map((r) => (
            <li>
              <h3>
                {r.code} <span class="risk">risk {r.risk.toFixed(2)}</span>
              </h3>
              <p>{r.description}</p>
              <ul>
                {r.evidence.map((e) => (
                  <li>
                    <span class="feature">{e.feature}</span>: {e.condition}
                    {e.percentile !== null ? (
                      <PercentileBar
                        percentile={e.percentile}
                        label={`${e.feature} at the ${e.percentile}th percentile of its peers`}
                      />
                    ) : null}
                  </li>
                ))}
              </ul>
              <p class="hint">{r.compares}</p>
            </li>
          ))}
        </ul>
      ) : (
        <p>No rule fired.</p>
      )}
      <h2>Clicks and sales</h2>
      <DelayHistogram delays={activity.delays} />
      <table>
        <caption>Latest clicks and sales in the period (IP shown as a keyed-hash prefix)</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">IP</th>
            <th scope="col">Country</th>
            <th scope="col">Device</th>
            <th scope="col">Amount</th>
            <th scope="col">Coupon</th>
          </tr>
        </thead>
        <tbody>
          {activity.recent.map((r) => (
            <tr>
              <td>{r.ts.replace('T', ' ').slice(0, 19)}</td>
              <td>{r.type}</td>
              <td>
                <code>{r.ip ?? '—'}</code>
              </td>
              <td>{r.country ?? '—'}</td>
              <td>{r.device ?? '—'}</td>
              <td class="num">{r.amount === null ? '' : r.amount.toFixed(2)}</td>
              <td>{r.coupon ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Earlier payouts of {payout.affiliateId}</h2>
      {earlier.length === 0 ? (
        <p>None.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Payout</th>
              <th scope="col">Period</th>
              <th scope="col">Amount</th>
              <th scope="col">Risk</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {earlier.map((e) => (
              <tr>
                <td>
                  <a href={`/review/payouts/${encodeURIComponent(e.id)}`}>{e.id}</a>
                </td>
                <td>
                  {e.period_start.slice(0, 10)} – {e.period_end.slice(0, 10)}
                </td>
                <td class="num">{money(e.amount, e.currency)}</td>
                <td class="num">{e.risk === null ? '—' : e.risk.toFixed(2)}</td>
                <td>
                  {STATUS_WORDS[e.review && e.review !== 'pending' ? e.review : e.status] ?? e.status}
                  {e.decided_by ? ` by ${e.decided_by}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Decision</h2>
      {decidable ? (
        <>
          <form
            method="post"
            action={`/review/payouts/${encodeURIComponent(payout.id)}/decision`}
            class="decide"
          >
            <input type="hidden" name="_csrf" value={who.csrf} />
            <label for="note">Note</label>
            <textarea id="note" name="note" rows={4} maxlength={2000}>
              {note ?? ''}
            </textarea>
            <p class="hint">A note is required to reject or escalate.</p>
            <div class="buttons">
              <button type="submit" name="decision" value="approve" data-key="a">
                Approve
              </button>
              <button type="submit" name="decision" value="reject" data-key="r">
                Reject
              </button>
              {payout.review.status === 'escalated' ? null : (
                <button type="submit" name="decision" value="escalate" data-key="e">
                  Escalate
                </button>
              )}
            </div>
          </form>
          {payout.review.assignedTo === who.name ? null : (
            <form method="post" action={`/review/payouts/${encodeURIComponent(payout.id)}/assign`}>
              <input type="hidden" name="_csrf" value={who.csrf} />
              <button type="submit">Assign to myself</button>
            </form>
          )}
        </>
      ) : (
        <p>
          {waiting
            ? 'Escalated: an admin decides this payout.'
            : `This payout is ${(STATUS_WORDS[state] ?? state).toLowerCase()}; it takes no decision now.`}
        </p>
      )}
      <h2>Audit trail</h2>
      <ol class="history">
        {payout.history.map((h) => (
          <li>
            <time datetime={h.at}>{h.at.replace('T', ' ').slice(0, 19)}</time> · {h.actor} ·{' '}
            {h.kind === 'decided'
              ? `${STATUS_WORDS[String(h.detail.status)] ?? String(h.detail.status)}`
              : h.kind === 'scored'
                ? `scored ${Number(h.detail.risk).toFixed(2)} (${String(h.detail.decision)})`
                : h.kind === 'assigned'
                  ? `assigned to ${String(h.detail.assignedTo)}`
                  : 'paid'}
            {h.note ? <q>{h.note}</q> : null}
          </li>
        ))}
      </ol>
    </Layout>
  );
};
