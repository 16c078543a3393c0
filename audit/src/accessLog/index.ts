export { PostgresAccessLog, accessRecordOfRow, accessRecordsOfSubject, hmacPseudonymiser, readAccessRecords } from './postgresAccessLog';
export type { AccessLog, PostgresAccessLogOptions, Pseudonymiser, StoredAccessRecord } from './postgresAccessLog';
export { httpAccessLog, noteAccess, recordOfRoute } from './httpAccessLog';
export type { AccessBasis, AccessNote, HttpAccessLog, HttpAccessLogOptions } from './httpAccessLog';
export { loadPseudonymSecret, PseudonymSecretConfigError, PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV } from './pseudonymSecret';
export { auditorRoutes } from '../routes/auditorRoutes';
export type { AuditorRoutesDeps, OpenedEvent } from '../routes/auditorRoutes';
export { fhirAuditEvent } from '../routes/fhirAuditEvent';
