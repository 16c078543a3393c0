import type { AccessRecord } from '../leaf';

const ACTION_OF_METHOD: Record<string, 'C' | 'R' | 'U' | 'D' | 'E'> = { GET: 'R', HEAD: 'R', POST: 'C', PUT: 'U', PATCH: 'U', DELETE: 'D' };
/** FHIR AuditEvent.outcome: 0 success, 4 minor failure (refused), 8 serious failure. */
const OUTCOME: Record<AccessRecord['outcome'], '0' | '4' | '8'> = { allowed: '0', denied: '4', error: '8' };

/**
 * An access record as a FHIR R4 AuditEvent (DICOM "Patient Record" event, RESTful interaction
 * subtype, HL7 v3 purpose of use). The subject appears by its pseudonym, as in the log itself.
 */
export function fhirAuditEvent(r: AccessRecord): Record<string, unknown> {
  const detail = [
    ...(r.subjectPseudonym === null ? [] : [{ type: 'subjectPseudonym', valueString: r.subjectPseudonym }]),
    ...(r.consentVersion === null ? [] : [{ type: 'consentVersion', valueString: String(r.consentVersion) }]),
    ...(r.breakGlassGrantId === null ? [] : [{ type: 'breakGlassGrantId', valueString: r.breakGlassGrantId }]),
    { type: 'route', valueString: `${r.method} ${r.route}` },
    { type: 'status', valueString: String(r.status) },
    // Ties the records of one request together (a read that failed after its record was started has two).
    { type: 'requestId', valueString: r.requestId },
  ];
  return {
    resourceType: 'AuditEvent',
    id: r.id,
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: r.method === 'GET' ? (r.recordId === null ? 'search-type' : 'read') : r.method === 'DELETE' ? 'delete' : r.method === 'PUT' ? 'update' : 'create' }],
    action: ACTION_OF_METHOD[r.method] ?? 'E',
    recorded: r.at,
    outcome: OUTCOME[r.outcome],
    outcomeDesc: r.action === 'denied' ? 'access denied' : undefined,
    purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: r.purposeOfUse }] }],
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] },
        role: [{ text: r.actorRole }],
        who: { identifier: { system: 'urn:fitledger:subject', value: r.actorSub } },
        ...(r.clientId === null ? {} : { altId: r.clientId }),
        requestor: true,
        ...(r.actorOrganisation === null ? {} : { location: { identifier: { system: 'urn:fitledger:organisation', value: r.actorOrganisation } } }),
        network: { address: r.ip, type: '2' },
        ...(r.consentVersion === null ? {} : { policy: [`urn:fitledger:consent-version:${r.consentVersion}`] }),
      },
    ],
    source: {
      site: r.service,
      observer: { display: r.service },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      {
        what: r.recordId === null ? { display: r.recordType } : { identifier: { system: `urn:fitledger:${r.recordType}`, value: r.recordId } },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
        name: r.recordType,
        detail,
      },
    ],
  };
}
