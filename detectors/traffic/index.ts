export { createTrafficDetector, type TrafficDetector } from './detector.ts';
export { anomalyRoutes, trafficRunRoutes } from './routes.ts';
