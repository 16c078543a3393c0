import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import { foldEvents } from '../decider';
import type { CommandMetadata, Role } from '../events/envelope';
import type { EmergencyAccessCommand } from './commands';
import { emergencyAccessDecider, openEmergencyGrant } from './emergencyAccess';
import type { EmergencyAccessEvent } from './events';

const SUBJECT = '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61';
const ADMIN = '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091';
const AUDITOR = '7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908';
const G = '0190f7d0-2b3c-7d4e-8f50-6a7b8c9d0e1f';
const NOW = new Date('2026-06-01T10:00:00.000Z');
const REASON = 'Member collapsed; paramedics ask for recent heart-rate data';

const by = <C extends EmergencyAccessCommand>(sub: string, role: Role, type: C['type'], data: C['data']): C =>
  ({ type, data, metadata: { now: NOW, actor: { sub, role }, tenantId: 't', subjectId: SUBJECT, commandId: 'c', correlationId: 'r' } satisfies CommandMetadata }) as C;
const spec = deciderSpecification(emergencyAccessDecider);
const opened: EmergencyAccessEvent = { type: 'EmergencyAccessOpened', data: { grantId: G, openedBy: ADMIN, reason: REASON, expiresAt: '2026-06-01T11:00:00.000Z' } };

describe('emergency (break-glass) access', () => {
  it('opens with a stated reason for a bounded time, never to one’s own data', () => {
    spec.given([]).when(by(ADMIN, 'org_admin', 'OpenEmergencyAccess', { grantId: G, reason: REASON, minutes: 60 })).then([opened]);
    spec.given([]).when(by(ADMIN, 'org_admin', 'OpenEmergencyAccess', { grantId: G, reason: 'because', minutes: 60 })).thenThrows('VALIDATION_FAILED', 'reason');
    spec.given([]).when(by(ADMIN, 'org_admin', 'OpenEmergencyAccess', { grantId: G, reason: REASON, minutes: 24 * 60 + 1 })).thenThrows('VALIDATION_FAILED', 'minutes');
    spec.given([]).when(by(SUBJECT, 'client', 'OpenEmergencyAccess', { grantId: G, reason: REASON, minutes: 60 })).thenThrows('VALIDATION_FAILED', 'grantId');
    spec.given([opened]).when(by(ADMIN, 'org_admin', 'OpenEmergencyAccess', { grantId: G, reason: REASON, minutes: 60 })).thenNothingHappens();
  });

  it('lets the opener in until it expires or is closed (by the opener or the subject)', () => {
    const state = foldEvents(emergencyAccessDecider, [opened]);
    expect(openEmergencyGrant(state, ADMIN, NOW)?.opened.grantId).toBe(G);
    expect(openEmergencyGrant(state, AUDITOR, NOW)).toBeUndefined();
    expect(openEmergencyGrant(state, ADMIN, new Date('2026-06-01T11:00:00.000Z'))).toBeUndefined();
    const closed: EmergencyAccessEvent = { type: 'EmergencyAccessClosed', data: { grantId: G } };
    spec.given([opened]).when(by(SUBJECT, 'client', 'CloseEmergencyAccess', { grantId: G })).then([closed]);
    spec.given([opened]).when(by(ADMIN, 'org_admin', 'CloseEmergencyAccess', { grantId: G })).then([closed]);
    spec.given([opened]).when(by(AUDITOR, 'auditor', 'CloseEmergencyAccess', { grantId: G })).thenThrows('EMERGENCY_ACCESS_NOT_FOUND', 'grantId');
    expect(openEmergencyGrant(foldEvents(emergencyAccessDecider, [opened, closed]), ADMIN, NOW)).toBeUndefined();
  });

  it('is reviewed once, never by the one who opened it', () => {
    const reviewed: EmergencyAccessEvent = { type: 'EmergencyAccessReviewed', data: { grantId: G, reviewedBy: AUDITOR, outcome: 'justified' } };
    spec.given([opened]).when(by(AUDITOR, 'auditor', 'ReviewEmergencyAccess', { grantId: G, outcome: 'justified' })).then([reviewed]);
    spec.given([opened]).when(by(ADMIN, 'org_admin', 'ReviewEmergencyAccess', { grantId: G, outcome: 'justified' })).thenThrows('OWN_REVIEW', 'grantId');
    spec.given([opened, reviewed]).when(by(AUDITOR, 'auditor', 'ReviewEmergencyAccess', { grantId: G, outcome: 'justified' })).thenNothingHappens();
    spec.given([opened, reviewed]).when(by(AUDITOR, 'auditor', 'ReviewEmergencyAccess', { grantId: G, outcome: 'unjustified' })).thenThrows('EMERGENCY_ACCESS_REVIEWED', 'grantId');
  });
});
