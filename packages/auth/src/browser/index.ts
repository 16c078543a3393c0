export { createBrowserLogin, CSRF_HEADER } from './browserLogin';
export type { BrowserLogin, BrowserLoginDeps, FinishedLogin, SessionView, StartedLogin } from './browserLogin';
export { browserLoginRoutes } from './browserLoginRoutes';
export type { BrowserLoginRoutesOptions } from './browserLoginRoutes';
export {
  browserLoginConfigFromEnv,
  BrowserLoginConfigError,
  parseSessionSecret,
  DEFAULT_ABSOLUTE_LIFETIME_S,
  DEFAULT_IDLE_TIMEOUT_S,
  DEFAULT_LOGIN_SCOPE,
  SESSION_SECRET_ENV,
} from './config';
export type { BrowserLoginConfig } from './config';
export { cookieAttributes, cookieNames } from './cookies';
export type { CookieNames } from './cookies';
export { migrateAuthSchema, authMigrations, AUTH_MIGRATION_TABLE, AUTH_MIGRATION_LOCK_TABLE } from './migrations';
