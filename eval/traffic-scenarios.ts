// Seeded traffic of an online marketplace during influencer campaigns: the request logs its backends send, the
// Web Vitals its browsers send and the campaign clicks, over four hours at minute resolution, with the ground
// truth of every bottleneck injected. The first two hours are warm-up history; the scenario's event, if any,
// happens in the last two hours (the evaluation window), at least 20 minutes into it.

/** Every scenario the simulator can generate. */
export const TRAFFIC_SCENARIOS = [
  'steady',
  'absorbed_surge',
  'saturating_surge',
  'error_surge',
  'slow_deploy',
  'route_dark',
  'short_spike',
  'slow_drift',
  'lcp_regression',
] as const;

/** The name of one scenario. */
export type TrafficScenarioName = (typeof TRAFFIC_SCENARIOS)[number];

/** One request, as a backend logs it. */
interface LogRecord {
  ts: string;
  level: 'info' | 'warn' | 'error';
  service: string;
  message: string;
  route: string;
  method: 'GET' | 'POST';
  status: number;
  durationMs: number;
}

/** One page view's Web Vitals measurement; a page view may report only some of the values. */
interface VitalRecord {
  ts: string;
  app: string;
  page: string;
  lcp?: number;
  inp?: number;
  cls?: number;
}

/** One click on an affiliate's campaign link. */
interface ClickRecord {
  ts: string;
  campaignId: string;
  affiliateId: string;
}

/** A bottleneck the scenario injected: `start` is its first minute, `end` the first normal minute after it. */
export interface InjectedBottleneck {
  target: { service: string; route: string } | { app: string; page: string };
  signal: 'latency_p95' | 'error_ratio' | 'throughput' | 'lcp_p75' | 'inp_p75' | 'cls_p75';
  start: string;
  end: string;
  campaign: string | null;
}

/** A generated scenario: every record, each array sorted by time, and the bottlenecks injected. */
export interface TrafficScenario {
  name: TrafficScenarioName;
  seed: number;
  start: string;
  evaluationStart: string;
  end: string;
  logs: LogRecord[];
  vitals: VitalRecord[];
  clicks: ClickRecord[];
  bottlenecks: InjectedBottleneck[];
}

const MINUTE_MS = 60_000;
const TOTAL_MINUTES = 240;
const WARMUP_MINUTES = 120;
/** The earliest minute an event may start: 20 minutes into the evaluation window. */
const EARLIEST_EVENT = WARMUP_MINUTES + 20;
const DEFAULT_START = '2026-11-27T14:00:00.000Z';
/** The most log records a scenario should hold at scale 1; a surge is shortened or flattened to fit. */
const LOG_BUDGET = 380_000;
/** z of the 95th percentile of a normal distribution. */
const Z95 = 1.645;

// ---------------------------------------------------------------------------------------------------------
// Random numbers

interface Random {
  next(): number;
  between(lo: number, hi: number): number;
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  normal(): number;
  /** Log-normal with the given median and sigma of the log. */
  logNormal(median: number, sigma: number): number;
  poisson(mean: number): number;
}

/** mulberry32: a small, fast 32-bit generator. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes a seed and a label into an independent stream seed, so streams don't shift when others change. */
function streamSeed(seed: number, label: string): number {
  let h = (Math.imul(Math.trunc(seed) | 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function itemAt<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`no item at ${index} of ${items.length}`);
  return item;
}

function poissonSmall(next: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = next();
  while (p > limit) {
    k++;
    p *= next();
  }
  return k;
}

function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u = Math.max(1e-12, next());
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * next();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
  return {
    next,
    between: (lo, hi) => lo + next() * (hi - lo),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => itemAt(items, Math.floor(next() * items.length)),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    poisson: (mean) => {
      if (mean <= 0) return 0;
      if (mean < 30) return poissonSmall(next, mean);
      return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
    },
  };
}

/** `count` distinct items drawn without replacement, in the order drawn. */
function sample<T>(random: Random, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const drawn: T[] = [];
  while (drawn.length < count && pool.length > 0) {
    const index = Math.floor(random.next() * pool.length);
    drawn.push(itemAt(pool, index));
    pool.splice(index, 1);
  }
  return drawn;
}

// ---------------------------------------------------------------------------------------------------------
// The marketplace

type Range = readonly [number, number];

interface RouteTemplate {
  service: string;
  method: 'GET' | 'POST';
  route: string;
  okStatus: number;
  /** Requests a minute at scale 1. */
  rate: Range;
  /** Median latency, ms. */
  median: Range;
  /** Whether campaign visitors hit it (product pages, cart, checkout). */
  campaign: boolean;
  /** Whether a seed may leave it out. */
  optional: boolean;
}

const ROUTE_TEMPLATES: readonly RouteTemplate[] = [
  route('storefront', 'GET', '/api/products/:id', [90, 200], [25, 90], true),
  route('storefront', 'GET', '/api/recommendations', [40, 120], [60, 220], true),
  route('storefront', 'GET', '/api/reviews/:id', [20, 80], [20, 80], true),
  route('storefront', 'GET', '/api/categories/:slug', [20, 60], [30, 110], false, true),
  route('search', 'GET', '/api/search', [60, 160], [80, 300], false),
  route('search', 'GET', '/api/search/suggest', [40, 120], [20, 60], false),
  route('checkout', 'GET', '/api/cart', [30, 90], [20, 70], true),
  route('checkout', 'POST', '/api/cart/items', [20, 60], [40, 120], true, false, 201),
  route('checkout', 'POST', '/api/checkout', [20, 40], [150, 400], true, false, 201),
  route('checkout', 'POST', '/api/payments', [20, 35], [200, 400], true),
  route('checkout', 'GET', '/api/orders/:id', [20, 50], [30, 100], false, true),
];

function route(
  service: string,
  method: 'GET' | 'POST',
  path: string,
  rate: Range,
  median: Range,
  campaign: boolean,
  optional = false,
  okStatus = 200,
): RouteTemplate {
  return { service, method, route: path, okStatus, rate, median, campaign, optional };
}

interface PageTemplate {
  app: string;
  page: string;
  /** Page views a minute at scale 1. */
  views: Range;
  lcpMedian: Range;
  inpMedian: Range;
  /** How much of a campaign wave's multiplier reaches the page (0 none, 1 all). */
  campaignShare: number;
}

const STOREFRONT_PAGES: readonly PageTemplate[] = [
  page('storefront-web', '/', [20, 60], [1200, 1900], [80, 150], 0.5),
  page('storefront-web', '/p/:id', [20, 60], [1500, 2500], [100, 200], 1),
  page('storefront-web', '/search', [10, 40], [1300, 2200], [120, 200], 0.2),
  page('storefront-web', '/cart', [8, 25], [1200, 2000], [80, 160], 0.7),
  page('storefront-web', '/checkout', [5, 15], [1400, 2400], [100, 200], 0.5),
];

const SELLER_PAGES: readonly PageTemplate[] = [
  page('seller-hub', '/dashboard', [5, 20], [1800, 2500], [100, 200], 0),
  page('seller-hub', '/listings/:id', [5, 15], [1500, 2300], [80, 180], 0),
  page('seller-hub', '/orders', [5, 12], [1400, 2200], [80, 160], 0),
];

function page(
  app: string,
  path: string,
  views: Range,
  lcpMedian: Range,
  inpMedian: Range,
  campaignShare: number,
): PageTemplate {
  return { app, page: path, views, lcpMedian, inpMedian, campaignShare };
}

const CAMPAIGN_IDS = [
  'bf-2026',
  'cyber-week-2026',
  'gift-guide-2026',
  'winter-drop-2026',
  'creator-collab-17',
  'sneaker-restock-3',
] as const;
const SERVER_ERRORS = [500, 502, 503, 504] as const;
const CLIENT_ERRORS = [400, 401, 404, 409, 422, 429] as const;
const CATEGORY_SLUGS = ['sneakers', 'beauty', 'home', 'kids', 'outdoor', 'vintage', 'gaming', 'audio'];

interface RouteModel {
  service: string;
  route: string;
  method: 'GET' | 'POST';
  okStatus: number;
  campaign: boolean;
  /** Requests a minute at scale 1, before the diurnal shape. */
  rate: number;
  /** The diurnal swing, ± fraction of the rate. */
  amplitude: number;
  /** The diurnal multiplier per minute. */
  diurnal: Float64Array;
  medianMs: number;
  sigma: number;
  serverErrorRatio: number;
  clientErrorRatio: number;
  outliersPerHour: number;
}

interface PageModel {
  app: string;
  page: string;
  campaignShare: number;
  views: number;
  diurnal: Float64Array;
  lcpMedian: number;
  inpMedian: number;
  clsScale: number;
  reportsLcp: number;
  reportsInp: number;
  reportsCls: number;
}

interface CampaignModel {
  id: string;
  affiliates: string[];
  /** Background clicks a minute at scale 1. */
  backgroundPerMinute: number;
}

interface Marketplace {
  routes: RouteModel[];
  pages: PageModel[];
  campaigns: CampaignModel[];
}

/** The afternoon curve every rate follows: a slow sine, rising over the four hours, per-route phase jitter. */
function diurnalCurve(random: Random, periodMinutes: number, phase: number, amplitude: number): Float64Array {
  const curve = new Float64Array(TOTAL_MINUTES);
  const ownPhase = phase + random.between(-0.3, 0.3);
  for (let m = 0; m < TOTAL_MINUTES; m++)
    curve[m] = 1 + amplitude * Math.sin((2 * Math.PI * m) / periodMinutes + ownPhase);
  return curve;
}

function drawRoute(random: Random, template: RouteTemplate, period: number, phase: number): RouteModel {
  const amplitude = random.between(0.2, 0.4);
  return {
    service: template.service,
    route: template.route,
    method: template.method,
    okStatus: template.okStatus,
    campaign: template.campaign,
    rate: random.between(...template.rate),
    amplitude,
    diurnal: diurnalCurve(random, period, phase, amplitude),
    medianMs: random.between(...template.median),
    // p95 / median = exp(1.645 sigma) in 2.5–4
    sigma: random.between(Math.log(2.5), Math.log(4)) / Z95,
    serverErrorRatio: random.between(0, 0.005),
    clientErrorRatio: random.between(0.01, 0.03),
    outliersPerHour: random.between(1, 4),
  };
}

function drawPage(random: Random, template: PageTemplate, period: number, phase: number): PageModel {
  return {
    app: template.app,
    page: template.page,
    campaignShare: template.campaignShare,
    views: random.between(...template.views),
    diurnal: diurnalCurve(random, period, phase, random.between(0.2, 0.4)),
    lcpMedian: random.between(...template.lcpMedian),
    inpMedian: random.between(...template.inpMedian),
    clsScale: random.between(0.6, 1.6),
    reportsLcp: random.between(0.85, 0.97),
    reportsInp: random.between(0.35, 0.7),
    reportsCls: random.between(0.75, 0.95),
  };
}

function drawCampaigns(random: Random): CampaignModel[] {
  const ids = sample(random, CAMPAIGN_IDS, random.int(2, 4));
  const used = new Set<string>();
  return ids.map((id) => {
    const affiliates: string[] = [];
    const count = random.int(3, 8);
    while (affiliates.length < count) {
      const affiliate = `aff-${random.int(1000, 9999)}`;
      if (used.has(affiliate)) continue;
      used.add(affiliate);
      affiliates.push(affiliate);
    }
    return { id, affiliates, backgroundPerMinute: random.between(0, 10) };
  });
}

/** The marketplace of a seed: the same routes, pages and campaigns in every scenario of that seed. */
function drawMarketplace(seed: number): Marketplace {
  const random = createRandom(streamSeed(seed, 'marketplace'));
  const period = random.between(480, 720);
  const phase = random.between(-Math.PI / 2, -Math.PI / 6);
  const templates = ROUTE_TEMPLATES.filter((t) => !t.optional || random.chance(0.7));
  const routes = templates.map((t) => drawRoute(random, t, period, phase));
  const pageTemplates = random.chance(0.5) ? [...STOREFRONT_PAGES, ...SELLER_PAGES] : STOREFRONT_PAGES;
  const pages = pageTemplates.map((t) => drawPage(random, t, period, phase));
  return { routes, pages, campaigns: drawCampaigns(random) };
}

// ---------------------------------------------------------------------------------------------------------
// A scenario's plan: per-minute effects on the marketplace, and the bottlenecks they amount to

interface RouteEffects {
  rate: Float64Array;
  /** Multiplies the latency median. */
  median: Float64Array;
  /** Added to the latency sigma (a heavier tail). */
  sigma: Float64Array;
  /** The 5xx ratio, NaN where the route's baseline holds. */
  serverErrors: Float64Array;
  /** The status most of an incident's 5xx responses carry. */
  incidentStatus: number;
}

interface PageEffects {
  views: Float64Array;
  lcp: Float64Array;
}

interface ClickWave {
  campaign: CampaignModel;
  /** The influencer whose post sends most of the wave. */
  affiliate: string;
  perMinute: Float64Array;
}

interface PlannedBottleneck {
  target: InjectedBottleneck['target'];
  signal: InjectedBottleneck['signal'];
  startMinute: number;
  endMinute: number;
  campaign: string | null;
}

interface Plan {
  routes: RouteEffects[];
  pages: PageEffects[];
  wave: ClickWave | null;
  bottlenecks: PlannedBottleneck[];
}

function filled(value: number): Float64Array {
  return new Float64Array(TOTAL_MINUTES).fill(value);
}

function neutralPlan(market: Marketplace): Plan {
  return {
    routes: market.routes.map(() => ({
      rate: filled(1),
      median: filled(1),
      sigma: filled(0),
      serverErrors: filled(Number.NaN),
      incidentStatus: 503,
    })),
    pages: market.pages.map(() => ({ views: filled(1), lcp: filled(1) })),
    wave: null,
    bottlenecks: [],
  };
}

function routeTarget(model: RouteModel): InjectedBottleneck['target'] {
  return { service: model.service, route: model.route };
}

/** A start minute for an event of `duration` minutes that ends by the end of the scenario. */
function eventStart(random: Random, duration: number): number {
  return random.int(EARLIEST_EVENT, Math.max(EARLIEST_EVENT, TOTAL_MINUTES - duration));
}

/** The first minute and the first minute after, of where `values` differ from `neutral`. */
function spanOf(values: Float64Array, neutral: number): { startMinute: number; endMinute: number } {
  let startMinute = -1;
  let endMinute = TOTAL_MINUTES;
  for (let m = 0; m < TOTAL_MINUTES; m++) {
    const changed = Math.abs((values[m] ?? neutral) - neutral) > 1e-9;
    if (changed && startMinute < 0) startMinute = m;
    if (!changed && startMinute >= 0) {
      endMinute = m;
      break;
    }
  }
  if (startMinute < 0) throw new Error('the planned effect changes nothing');
  return { startMinute, endMinute };
}

function indexOf<T>(items: readonly T[], item: T): number {
  const index = items.indexOf(item);
  if (index < 0) throw new Error('item not in list');
  return index;
}

// ----- campaign waves

interface Surge {
  startMinute: number;
  duration: number;
  rampUp: number;
  rampDown: number;
  /** The fraction the wave loses from its peak to its end. */
  decay: number;
  /** The traffic multiplier at the peak. */
  peak: number;
}

/** A wave's share of its peak excess, `k` minutes after it began: a quick rise, a slow fade, a quick end. */
function waveShape(surge: Surge, k: number): number {
  if (k < 0 || k >= surge.duration) return 0;
  const rise = Math.min(1, (k + 1) / surge.rampUp);
  const fall = Math.min(1, (surge.duration - k) / surge.rampDown);
  const fade = 1 - (surge.decay * Math.max(0, k - surge.rampUp + 1)) / surge.duration;
  return rise * fall * fade;
}

function drawSurge(random: Random, peak: Range): Surge {
  const duration = random.int(20, 60);
  return {
    startMinute: eventStart(random, duration),
    duration,
    rampUp: random.int(1, 3),
    rampDown: random.int(2, 5),
    decay: random.between(0.1, 0.35),
    peak: random.between(...peak),
  };
}

/** Requests the whole scenario would log at scale 1 with `surge` on `routes`. */
function expectedRequests(market: Marketplace, routes: readonly RouteModel[], surge: Surge): number {
  let total = 0;
  for (const model of market.routes) {
    const surged = routes.includes(model);
    for (let m = 0; m < TOTAL_MINUTES; m++) {
      const factor = surged ? 1 + (surge.peak - 1) * waveShape(surge, m - surge.startMinute) : 1;
      total += model.rate * (model.diurnal[m] ?? 1) * factor;
    }
  }
  return total;
}

/** Shortens, then flattens, a surge until the scenario fits the log budget. */
function fitSurge(market: Marketplace, routes: readonly RouteModel[], surge: Surge, minPeak: number): Surge {
  let fitted = surge;
  while (expectedRequests(market, routes, fitted) > LOG_BUDGET) {
    if (fitted.duration > 20) fitted = { ...fitted, duration: fitted.duration - 5 };
    else if (fitted.peak > minPeak) fitted = { ...fitted, peak: Math.max(minPeak, fitted.peak - 0.5) };
    else break;
  }
  return fitted;
}

function waveClicks(random: Random, surge: Surge, lead: number): Float64Array {
  const peakClicks = random.between(200, 700);
  const perMinute = new Float64Array(TOTAL_MINUTES);
  for (let m = 0; m < TOTAL_MINUTES; m++)
    perMinute[m] = peakClicks * waveShape(surge, m - (surge.startMinute - lead));
  return perMinute;
}

/** A campaign wave multiplying the traffic of 3–5 campaign routes and the campaign pages. */
function planWave(
  random: Random,
  market: Marketplace,
  plan: Plan,
  peak: Range,
): { surge: Surge; routes: RouteModel[] } {
  const campaignRoutes = market.routes.filter((r) => r.campaign);
  const products = itemAt(campaignRoutes, 0);
  const others = sample(random, campaignRoutes.slice(1), random.int(2, 4));
  const routes = [products, ...others];
  const surge = fitSurge(market, routes, drawSurge(random, peak), peak[0]);
  for (const model of routes) {
    const effects = itemAt(plan.routes, indexOf(market.routes, model));
    for (let m = 0; m < TOTAL_MINUTES; m++)
      effects.rate[m] = 1 + (surge.peak - 1) * waveShape(surge, m - surge.startMinute);
  }
  market.pages.forEach((model, i) => {
    if (model.campaignShare === 0) return;
    const effects = itemAt(plan.pages, i);
    for (let m = 0; m < TOTAL_MINUTES; m++)
      effects.views[m] = 1 + model.campaignShare * (surge.peak - 1) * waveShape(surge, m - surge.startMinute);
  });
  const campaign = random.pick(market.campaigns);
  const lead = random.int(0, 2);
  plan.wave = {
    campaign,
    affiliate: random.pick(campaign.affiliates),
    perMinute: waveClicks(random, surge, lead),
  };
  return { surge, routes };
}

/** A campaign wave of ×3–×6 the system absorbs: latency and errors unchanged. */
function planAbsorbedSurge(random: Random, market: Marketplace, plan: Plan): void {
  planWave(random, market, plan, [3, 6]);
}

/** The p95 factor of a saturated route at a wave share: flat below the knee, then climbing with load. */
function saturationFactor(share: number, peakFactor: number): number {
  const knee = 0.15;
  if (share <= knee) return 1;
  return 1 + (peakFactor - 1) * Math.min(1, (share - knee) / (1 - knee));
}

/** A campaign wave of ×4–×8 under which one of the surged routes saturates: its p95 climbs ×2–×5 with load. */
function planSaturatingSurge(random: Random, market: Marketplace, plan: Plan): void {
  const { surge, routes } = planWave(random, market, plan, [4, 8]);
  const saturated = random.pick(routes);
  const effects = itemAt(plan.routes, indexOf(market.routes, saturated));
  const peakFactor = random.between(2, 5);
  for (let m = 0; m < TOTAL_MINUTES; m++) {
    const p95Factor = saturationFactor(waveShape(surge, m - surge.startMinute), peakFactor);
    // Queueing stretches the tail more than the middle: half of the p95 factor is a heavier tail.
    effects.median[m] = Math.sqrt(p95Factor);
    effects.sigma[m] = (0.5 * Math.log(p95Factor)) / Z95;
  }
  plan.bottlenecks.push({
    target: routeTarget(saturated),
    signal: 'latency_p95',
    ...spanOf(effects.median, 1),
    campaign: plan.wave?.campaign.id ?? null,
  });
}

// ----- route incidents

/** One route's 5xx ratio jumps to 5–40 % for 10–40 minutes; its traffic is unchanged. */
function planErrorSurge(random: Random, market: Marketplace, plan: Plan): void {
  const index = random.int(0, market.routes.length - 1);
  const effects = itemAt(plan.routes, index);
  const duration = random.int(10, 40);
  const start = eventStart(random, duration);
  const ratio = random.between(0.05, 0.4);
  effects.incidentStatus = random.pick([500, 502, 503]);
  effects.serverErrors.fill(ratio, start, start + duration);
  plan.bottlenecks.push({
    target: routeTarget(itemAt(market.routes, index)),
    signal: 'error_ratio',
    startMinute: start,
    endMinute: start + duration,
    campaign: null,
  });
}

/** A deploy shifts one route's whole latency distribution ×1.8–×4, until the end or a rollback 30–60 min on. */
function planSlowDeploy(random: Random, market: Marketplace, plan: Plan): void {
  const index = random.int(0, market.routes.length - 1);
  const start = random.int(EARLIEST_EVENT, TOTAL_MINUTES - 40);
  const rollback = random.chance(0.5) ? start + random.int(30, 60) : TOTAL_MINUTES;
  const end = Math.min(TOTAL_MINUTES, rollback);
  itemAt(plan.routes, index).median.fill(random.between(1.8, 4), start, end);
  plan.bottlenecks.push({
    target: routeTarget(itemAt(market.routes, index)),
    signal: 'latency_p95',
    startMinute: start,
    endMinute: end,
    campaign: null,
  });
}

/** A route of at least 50 requests a minute gets none, or under 3 % of them, for 10–30 minutes. */
function planRouteDark(random: Random, market: Marketplace, plan: Plan): void {
  const eligible = market.routes.filter(
    (r) => r.rate * (1 - r.amplitude) >= 50 && market.routes.some((o) => o !== r && o.service === r.service),
  );
  const dark = random.pick(eligible);
  const duration = random.int(10, 30);
  const start = eventStart(random, duration);
  const residual = random.chance(0.5) ? 0 : random.between(0.003, 0.025);
  itemAt(plan.routes, indexOf(market.routes, dark)).rate.fill(residual, start, start + duration);
  plan.bottlenecks.push({
    target: routeTarget(dark),
    signal: 'throughput',
    startMinute: start,
    endMinute: start + duration,
    campaign: null,
  });
}

/** One route's latency ×3–×6 for exactly three minutes. */
function planShortSpike(random: Random, market: Marketplace, plan: Plan): void {
  const index = random.int(0, market.routes.length - 1);
  const start = eventStart(random, 3);
  itemAt(plan.routes, index).median.fill(random.between(3, 6), start, start + 3);
  plan.bottlenecks.push({
    target: routeTarget(itemAt(market.routes, index)),
    signal: 'latency_p95',
    startMinute: start,
    endMinute: start + 3,
    campaign: null,
  });
}

/** Every route's latency creeps up 10–15 % linearly over the two-hour evaluation window: no bottleneck. */
function planSlowDrift(random: Random, _market: Marketplace, plan: Plan): void {
  const window = TOTAL_MINUTES - WARMUP_MINUTES;
  for (const effects of plan.routes) {
    const drift = random.between(0.1, 0.15);
    for (let m = WARMUP_MINUTES; m < TOTAL_MINUTES; m++)
      effects.median[m] = 1 + (drift * (m - WARMUP_MINUTES + 1)) / window;
  }
}

/** One page's LCP ×1.8–×2.5 from a moment until the end of the window. */
function planLcpRegression(random: Random, market: Marketplace, plan: Plan): void {
  const busy = market.pages.filter((p) => p.views >= 10);
  const regressed = random.pick(busy.length > 0 ? busy : market.pages);
  const start = random.int(EARLIEST_EVENT, TOTAL_MINUTES - 40);
  itemAt(plan.pages, indexOf(market.pages, regressed)).lcp.fill(random.between(1.8, 2.5), start);
  plan.bottlenecks.push({
    target: { app: regressed.app, page: regressed.page },
    signal: 'lcp_p75',
    startMinute: start,
    endMinute: TOTAL_MINUTES,
    campaign: null,
  });
}

const PLANNERS: Record<TrafficScenarioName, (random: Random, market: Marketplace, plan: Plan) => void> = {
  steady: () => {},
  absorbed_surge: planAbsorbedSurge,
  saturating_surge: planSaturatingSurge,
  error_surge: planErrorSurge,
  slow_deploy: planSlowDeploy,
  route_dark: planRouteDark,
  short_spike: planShortSpike,
  slow_drift: planSlowDrift,
  lcp_regression: planLcpRegression,
};

// ---------------------------------------------------------------------------------------------------------
// Records

/** One minute's records in the order drawn, each with its offset into the minute (ms). */
interface MinuteBatch<T> {
  start: number;
  offsets: number[];
  records: T[];
}

function minuteBatch<T>(): MinuteBatch<T> {
  return { start: 0, offsets: [], records: [] };
}

/** Adds a record at a uniformly random moment of the batch's minute. */
function addAtRandomMoment<T>(batch: MinuteBatch<T>, random: Random, record: T): void {
  batch.offsets.push(Math.floor(random.next() * MINUTE_MS));
  batch.records.push(record);
}

/** Formats ms since the epoch as ISO UTC, caching the date-and-minute part (Date is the slow part). */
function isoFormatter(): (t: number) => string {
  let minute = Number.NaN;
  let prefix = '';
  return (t) => {
    const m = Math.floor(t / MINUTE_MS);
    if (m !== minute) {
      minute = m;
      prefix = new Date(m * MINUTE_MS).toISOString().slice(0, 17);
    }
    const inMinute = t - m * MINUTE_MS;
    const seconds = Math.floor(inMinute / 1000);
    const millis = inMinute - seconds * 1000;
    return `${prefix}${String(seconds).padStart(2, '0')}.${String(millis).padStart(3, '0')}Z`;
  };
}

/** Slots for the record index in a minute's sort keys. */
const SORT_SLOTS = 65_536;

/** Indices of `offsets` in time order: numeric keys (offset, then index) sort far faster than objects. */
function timeOrder(offsets: readonly number[]): number[] {
  if (offsets.length > SORT_SLOTS)
    return offsets.map((_, i) => i).sort((a, b) => (offsets[a] ?? 0) - (offsets[b] ?? 0) || a - b);
  const keys = new Float64Array(offsets.length);
  offsets.forEach((offset, i) => {
    keys[i] = offset * SORT_SLOTS + i;
  });
  keys.sort();
  return Array.from(keys, (key) => key % SORT_SLOTS);
}

/** A minute's records, sorted by time and their `ts` set, appended to `out`; the batch is emptied. */
function flushMinute<T extends { ts: string }>(
  batch: MinuteBatch<T>,
  iso: (t: number) => string,
  out: T[],
): void {
  for (const index of timeOrder(batch.offsets)) {
    const record = itemAt(batch.records, index);
    record.ts = iso(batch.start + itemAt(batch.offsets, index));
    out.push(record);
  }
  batch.offsets.length = 0;
  batch.records.length = 0;
}

/** A concrete request path for a route template: `/api/products/:id` → `/api/products/48213`. */
function concretePath(random: Random, template: string): string {
  const colon = template.indexOf(':');
  if (colon < 0) return template;
  const value = template.startsWith(':slug', colon)
    ? random.pick(CATEGORY_SLUGS)
    : String(random.int(1000, 99_999));
  const rest = template.indexOf('/', colon);
  return template.slice(0, colon) + value + (rest < 0 ? '' : template.slice(rest));
}

function drawStatus(random: Random, model: RouteModel, effects: RouteEffects, minute: number): number {
  const incident = effects.serverErrors[minute] ?? Number.NaN;
  const serverErrors = Number.isNaN(incident) ? model.serverErrorRatio : incident;
  const u = random.next();
  if (u < serverErrors) {
    if (!Number.isNaN(incident) && random.chance(0.8)) return effects.incidentStatus;
    return random.pick(SERVER_ERRORS);
  }
  if (u < serverErrors + model.clientErrorRatio) return random.pick(CLIENT_ERRORS);
  return model.okStatus;
}

function levelOf(status: number): LogRecord['level'] {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}

function logRecord(random: Random, model: RouteModel, status: number, durationMs: number): LogRecord {
  return {
    ts: '',
    level: levelOf(status),
    service: model.service,
    message: `${model.method} ${concretePath(random, model.route)} ${status}`,
    route: model.route,
    method: model.method,
    status,
    durationMs,
  };
}

/** A rare single slow request (a cold cache, a lock, a GC pause): 5–30 s, log-uniform. */
function slowOutlierMs(random: Random): number {
  return Math.round(Math.exp(random.between(Math.log(5_000), Math.log(30_000))));
}

/** One route's requests of one minute, its rare slow outliers included, into `batch`. */
function routeMinute(
  random: Random,
  model: RouteModel,
  effects: RouteEffects,
  minute: number,
  scale: number,
  batch: MinuteBatch<LogRecord>,
): void {
  const overdispersion = Math.exp(0.05 * random.normal() - 0.00125);
  const mean =
    model.rate * (model.diurnal[minute] ?? 1) * (effects.rate[minute] ?? 1) * scale * overdispersion;
  const count = random.poisson(mean);
  const median = model.medianMs * (effects.median[minute] ?? 1) * Math.exp(0.04 * random.normal());
  const sigma = model.sigma + (effects.sigma[minute] ?? 0);
  const first = batch.records.length;
  for (let i = 0; i < count; i++) {
    const status = drawStatus(random, model, effects, minute);
    const durationMs = Math.max(1, Math.round(random.logNormal(median, sigma)));
    addAtRandomMoment(batch, random, logRecord(random, model, status, durationMs));
  }
  const outliers = Math.min(count, random.poisson(model.outliersPerHour / 60));
  for (let i = 0; i < outliers; i++) {
    const hit = batch.records[first + Math.floor(random.next() * count)];
    if (hit) hit.durationMs = slowOutlierMs(random);
  }
}

function generateLogs(
  random: Random,
  market: Marketplace,
  plan: Plan,
  startMs: number,
  scale: number,
): LogRecord[] {
  const logs: LogRecord[] = [];
  const batch = minuteBatch<LogRecord>();
  const iso = isoFormatter();
  for (let m = 0; m < TOTAL_MINUTES; m++) {
    batch.start = startMs + m * MINUTE_MS;
    market.routes.forEach((model, i) => {
      routeMinute(random, model, itemAt(plan.routes, i), m, scale, batch);
    });
    flushMinute(batch, iso, logs);
  }
  return logs;
}

/** Layout shift: most views barely shift, some shift a little, a few shift a lot. */
function drawCls(random: Random, scale: number): number {
  const u = random.next();
  let value: number;
  if (u < 0.55) value = random.next() * 0.02;
  else if (u < 0.94) value = random.logNormal(0.05, 0.5);
  else value = random.logNormal(0.25, 0.6);
  return Math.round(value * scale * 10_000) / 10_000;
}

/** One page view's vitals; a view reports LCP, INP (only after an interaction) and CLS each by chance. */
function vitalRecord(random: Random, model: PageModel, lcpFactor: number): VitalRecord {
  const record: VitalRecord = { ts: '', app: model.app, page: model.page };
  if (random.chance(model.reportsLcp))
    record.lcp = Math.max(100, Math.round(random.logNormal(model.lcpMedian * lcpFactor, 0.45)));
  // Event Timing durations come rounded to 8 ms.
  if (random.chance(model.reportsInp))
    record.inp = Math.max(8, 8 * Math.round(random.logNormal(model.inpMedian, 0.6) / 8));
  if (random.chance(model.reportsCls) || (record.lcp === undefined && record.inp === undefined))
    record.cls = drawCls(random, model.clsScale);
  return record;
}

function generateVitals(
  random: Random,
  market: Marketplace,
  plan: Plan,
  startMs: number,
  scale: number,
): VitalRecord[] {
  const vitals: VitalRecord[] = [];
  const batch = minuteBatch<VitalRecord>();
  const iso = isoFormatter();
  for (let m = 0; m < TOTAL_MINUTES; m++) {
    batch.start = startMs + m * MINUTE_MS;
    market.pages.forEach((model, i) => {
      const effects = itemAt(plan.pages, i);
      const views = random.poisson(model.views * (model.diurnal[m] ?? 1) * (effects.views[m] ?? 1) * scale);
      for (let v = 0; v < views; v++)
        addAtRandomMoment(batch, random, vitalRecord(random, model, effects.lcp[m] ?? 1));
    });
    flushMinute(batch, iso, vitals);
  }
  return vitals;
}

function clickRecord(campaign: CampaignModel, affiliateId: string): ClickRecord {
  return { ts: '', campaignId: campaign.id, affiliateId };
}

function generateClicks(
  random: Random,
  market: Marketplace,
  plan: Plan,
  startMs: number,
  scale: number,
): ClickRecord[] {
  const clicks: ClickRecord[] = [];
  const batch = minuteBatch<ClickRecord>();
  const iso = isoFormatter();
  for (let m = 0; m < TOTAL_MINUTES; m++) {
    batch.start = startMs + m * MINUTE_MS;
    for (const campaign of market.campaigns) {
      const count = random.poisson(campaign.backgroundPerMinute * scale);
      for (let i = 0; i < count; i++)
        addAtRandomMoment(batch, random, clickRecord(campaign, random.pick(campaign.affiliates)));
    }
    const wave = plan.wave;
    if (wave) {
      const count = random.poisson((wave.perMinute[m] ?? 0) * scale);
      for (let i = 0; i < count; i++) {
        const affiliate = random.chance(0.85) ? wave.affiliate : random.pick(wave.campaign.affiliates);
        addAtRandomMoment(batch, random, clickRecord(wave.campaign, affiliate));
      }
    }
    flushMinute(batch, iso, clicks);
  }
  return clicks;
}

// ---------------------------------------------------------------------------------------------------------
// The scenario

function parseStart(start: string): number {
  const ms = Date.parse(start);
  const fourDigitYears = Number.isFinite(ms) && ms >= 0 && ms < Date.UTC(9999, 0, 1);
  if (!fourDigitYears) throw new RangeError(`invalid start: ${start}`);
  return ms;
}

function minuteIso(startMs: number, minute: number): string {
  return new Date(startMs + minute * MINUTE_MS).toISOString();
}

function toInjected(planned: PlannedBottleneck, startMs: number): InjectedBottleneck {
  return {
    target: planned.target,
    signal: planned.signal,
    start: minuteIso(startMs, planned.startMinute),
    end: minuteIso(startMs, planned.endMinute),
    campaign: planned.campaign,
  };
}

/**
 * Four hours of a marketplace's logs, vitals and campaign clicks for one scenario and seed. The same seed gives
 * the same marketplace (routes, rates, latencies, pages, campaigns) in every scenario; `scale` multiplies
 * request, page-view and click rates.
 */
export function simulateTrafficScenario(
  name: TrafficScenarioName,
  seed: number,
  options: { start?: string; scale?: number } = {},
): TrafficScenario {
  if (!TRAFFIC_SCENARIOS.includes(name)) throw new RangeError(`unknown traffic scenario: ${name}`);
  if (!Number.isFinite(seed)) throw new RangeError(`invalid seed: ${seed}`);
  const scale = options.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`invalid scale: ${scale}`);
  const startMs = parseStart(options.start ?? DEFAULT_START);

  const market = drawMarketplace(seed);
  const plan = neutralPlan(market);
  PLANNERS[name](createRandom(streamSeed(seed, `plan:${name}`)), market, plan);

  return {
    name,
    seed,
    start: minuteIso(startMs, 0),
    evaluationStart: minuteIso(startMs, WARMUP_MINUTES),
    end: minuteIso(startMs, TOTAL_MINUTES),
    logs: generateLogs(createRandom(streamSeed(seed, `logs:${name}`)), market, plan, startMs, scale),
    vitals: generateVitals(createRandom(streamSeed(seed, `vitals:${name}`)), market, plan, startMs, scale),
    clicks: generateClicks(createRandom(streamSeed(seed, `clicks:${name}`)), market, plan, startMs, scale),
    bottlenecks: plan.bottlenecks.map((b) => toInjected(b, startMs)),
  };
}
