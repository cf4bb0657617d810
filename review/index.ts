// The review area: analysts' decisions on payouts, the review UI, and the webhook that tells the marketplace.
export { decisionRoutes, payoutReviewRoutes } from './routes.ts';
export { reviewUiRoutes } from './ui/routes.tsx';
