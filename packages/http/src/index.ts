export { createService, sendProblem } from './createService';
export type { ErrorMapper, ServiceOptions } from './createService';
export { HttpProblem, PROBLEM_CONTENT_TYPE, problemSchema, problemType } from './problem';
export type { Problem } from './problem';
export { DEFAULT_RATE_LIMITS, rateLimits } from './rateLimits';
export type { RateLimitOptions, RateLimitSettings } from './rateLimits';
