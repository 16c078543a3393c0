import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import { foldEvents } from '../decider';
import type { CommandMetadata, Role } from '../events/envelope';
import { coachingDecider } from './coaching';
import type { CoachingCommand, ConsentCommand, GiveConsent } from './commands';
import { consentDecider, isConsentEffective, trainerSharingConsent, type ConsentState } from './consent';
import { SHARING_SCOPES, type CoachingEvent, type ConsentEvent, type SharingScope } from './events';
import { decideRead, type AccessCaller } from './policy';
import { emergencyAccessDecider } from './emergencyAccess';

const CLIENT = '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61';
const TRAINER = '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92';
const OTHER_TRAINER = '1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a';
const GUARDIAN = '4c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a091';
const TENANT = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';
const C1 = '0190f7b1-2c3d-7e4f-8a5b-6c7d8e9f0a1b';
const R1 = '0190f7b2-3d4e-7f50-9b6c-7d8e9f0a1b2c';
const NOW = new Date('2026-06-01T10:00:00.000Z');

const meta = (sub: string, role: Role = 'client', now = NOW): CommandMetadata => ({ now, actor: { sub, role }, tenantId: TENANT, subjectId: CLIENT, commandId: 'c-1', correlationId: 'r-1' });
const consentCmd = <C extends ConsentCommand>(type: C['type'], data: C['data'], by = CLIENT): C => ({ type, data, metadata: meta(by) }) as C;
const coachingCmd = <C extends CoachingCommand>(type: C['type'], data: C['data'], by: string): C => ({ type, data, metadata: meta(by, by === TRAINER ? 'trainer' : 'client') }) as C;
const share = (over: Partial<GiveConsent['data']> = {}): GiveConsent['data'] => ({ consentId: C1, purpose: 'trainer_sharing', trainerId: TRAINER, scopes: ['workouts'], ageOfDigitalConsent: 16, ...over });
const given: ConsentEvent = { type: 'ConsentGiven', data: { consentId: C1, purpose: 'trainer_sharing', trainerId: TRAINER, scopes: ['workouts'] } };

describe('consent decider', () => {
  const spec = deciderSpecification(consentDecider);

  it('gives a consent once; the same retry records nothing; another under the same id is refused', () => {
    spec.given([]).when(consentCmd('GiveConsent', share({ subjectBirthDate: '1990-01-01' }))).then([given]);
    spec.given([given]).when(consentCmd('GiveConsent', share())).thenNothingHappens();
    spec.given([given]).when(consentCmd('GiveConsent', share({ scopes: ['workouts', 'body_metrics'] }))).thenThrows('CONSENT_ALREADY_EXISTS', 'consentId');
  });

  it('validates by purpose, naming the field', () => {
    spec.given([]).when(consentCmd('GiveConsent', share({ trainerId: undefined }))).thenThrows('VALIDATION_FAILED', 'trainerId');
    spec.given([]).when(consentCmd('GiveConsent', share({ scopes: [] }))).thenThrows('VALIDATION_FAILED', 'scopes');
    spec.given([]).when(consentCmd('GiveConsent', share({ scopes: ['workouts', 'workouts'] }))).thenThrows('VALIDATION_FAILED', 'scopes');
    spec.given([]).when(consentCmd('GiveConsent', share({ scopes: ['dna' as SharingScope] }))).thenThrows('VALIDATION_FAILED', 'scopes[0]');
    spec.given([]).when(consentCmd('GiveConsent', { consentId: C1, purpose: 'research', scopes: ['workouts'], ageOfDigitalConsent: 16 })).thenThrows('VALIDATION_FAILED', 'scopes');
    spec.given([]).when(consentCmd('GiveConsent', { consentId: C1, purpose: 'device_sync', ageOfDigitalConsent: 16 })).thenThrows('VALIDATION_FAILED', 'provider');
    spec.given([]).when(consentCmd('GiveConsent', share({ trainerId: CLIENT }))).thenThrows('VALIDATION_FAILED', 'trainerId');
    spec.given([]).when(consentCmd('GiveConsent', share({ expiresAt: '2026-05-01T00:00:00.000Z' }))).thenThrows('VALIDATION_FAILED', 'expiresAt');
  });

  it("needs a named guardian below the age of digital consent, and is not in force before the guardian confirms", () => {
    const minor = share({ subjectBirthDate: '2012-01-01' });
    spec.given([]).when(consentCmd('GiveConsent', minor)).thenThrows('VALIDATION_FAILED', 'guardianId');
    spec.given([]).when(consentCmd('GiveConsent', { ...minor, guardianId: CLIENT })).thenThrows('VALIDATION_FAILED', 'guardianId');
    spec.given([]).when(consentCmd('GiveConsent', share({ subjectBirthDate: '1990-01-01', guardianId: GUARDIAN }))).thenThrows('VALIDATION_FAILED', 'guardianId');
    const minorGiven: ConsentEvent = { type: 'ConsentGiven', data: { ...given.data, guardianId: GUARDIAN } };
    spec.given([]).when(consentCmd('GiveConsent', { ...minor, guardianId: GUARDIAN })).then([minorGiven]);
    // Configurable: where the age is 13, a 14-year-old consents alone.
    spec.given([]).when(consentCmd('GiveConsent', { ...minor, ageOfDigitalConsent: 13 })).then([given]);

    const awaiting = foldEvents(consentDecider, [minorGiven]);
    expect(trainerSharingConsent(awaiting, TRAINER, 'workouts', NOW)).toBeUndefined();
    // Only the named guardian may confirm; to anyone else the consent does not exist.
    spec.given([minorGiven]).when(consentCmd('ConfirmConsentAsGuardian', { consentId: C1 }, OTHER_TRAINER)).thenThrows('CONSENT_NOT_FOUND', 'consentId');
    spec.given([minorGiven]).when(consentCmd('ConfirmConsentAsGuardian', { consentId: C1 }, CLIENT)).thenThrows('CONSENT_NOT_FOUND', 'consentId');
    const confirmed: ConsentEvent = { type: 'ConsentGuardianConfirmed', data: { consentId: C1, guardianId: GUARDIAN } };
    spec.given([minorGiven]).when(consentCmd('ConfirmConsentAsGuardian', { consentId: C1 }, GUARDIAN)).then([confirmed]);
    spec.given([minorGiven, confirmed]).when(consentCmd('ConfirmConsentAsGuardian', { consentId: C1 }, GUARDIAN)).thenNothingHappens();
    const state = foldEvents(consentDecider, [minorGiven, confirmed]);
    expect(trainerSharingConsent(state, TRAINER, 'workouts', NOW)?.given.consentId).toBe(C1);
    expect(state.version).toBe(2);
  });

  it('is withdrawn once and for good; the version counts every change', () => {
    const withdrawn: ConsentEvent = { type: 'ConsentWithdrawn', data: { consentId: C1 } };
    spec.given([given]).when(consentCmd('WithdrawConsent', { consentId: C1 })).then([withdrawn]);
    spec.given([given, withdrawn]).when(consentCmd('WithdrawConsent', { consentId: C1 })).thenNothingHappens();
    spec.given([]).when(consentCmd('WithdrawConsent', { consentId: C1 })).thenThrows('CONSENT_NOT_FOUND', 'consentId');
    // Nobody but the subject withdraws (or gives) their consent, not even the trainer it names.
    spec.given([given]).when(consentCmd('WithdrawConsent', { consentId: C1 }, TRAINER)).thenThrows('CONSENT_NOT_FOUND', 'consentId');
    spec.given([]).when(consentCmd('GiveConsent', share(), TRAINER)).thenThrows('CONSENT_NOT_FOUND', 'consentId');
    const state = foldEvents(consentDecider, [given, withdrawn]);
    expect(state.version).toBe(2);
    expect(trainerSharingConsent(state, TRAINER, 'workouts', NOW)).toBeUndefined();
  });

  it('lapses at its expiry', () => {
    const expiring: ConsentEvent = { type: 'ConsentGiven', data: { ...given.data, expiresAt: '2026-06-01T12:00:00.000Z' } };
    const record = foldEvents(consentDecider, [expiring]).consents.get(C1);
    expect(record && isConsentEffective(record, NOW)).toBe(true);
    expect(record && isConsentEffective(record, new Date('2026-06-01T12:00:00.000Z'))).toBe(false);
  });
});

describe('coaching decider', () => {
  const spec = deciderSpecification(coachingDecider);
  const invited: CoachingEvent = { type: 'CoachingInvited', data: { relationshipId: R1, trainerId: TRAINER, clientId: CLIENT } };
  const accepted: CoachingEvent = { type: 'CoachingAccepted', data: { relationshipId: R1 } };

  it('invite → accept (by the invited client only) → end (by either party, once)', () => {
    spec.given([]).when(coachingCmd('InviteClient', { relationshipId: R1, clientId: CLIENT }, TRAINER)).then([invited]);
    spec.given([]).when(coachingCmd('InviteClient', { relationshipId: R1, clientId: TRAINER }, TRAINER)).thenThrows('VALIDATION_FAILED', 'clientId');
    spec.given([invited]).when(coachingCmd('InviteClient', { relationshipId: R1, clientId: CLIENT }, TRAINER)).thenNothingHappens();
    spec.given([invited]).when(coachingCmd('InviteClient', { relationshipId: R1, clientId: GUARDIAN }, TRAINER)).thenThrows('RELATIONSHIP_ALREADY_EXISTS', 'relationshipId');
    spec.given([invited]).when(coachingCmd('AcceptCoaching', { relationshipId: R1 }, OTHER_TRAINER)).thenThrows('RELATIONSHIP_NOT_FOUND', 'relationshipId');
    spec.given([invited]).when(coachingCmd('AcceptCoaching', { relationshipId: R1 }, TRAINER)).thenThrows('RELATIONSHIP_NOT_FOUND', 'relationshipId');
    spec.given([invited]).when(coachingCmd('AcceptCoaching', { relationshipId: R1 }, CLIENT)).then([accepted]);
    spec.given([invited, accepted]).when(coachingCmd('EndCoaching', { relationshipId: R1 }, OTHER_TRAINER)).thenThrows('RELATIONSHIP_NOT_FOUND', 'relationshipId');
    spec.given([invited, accepted]).when(coachingCmd('EndCoaching', { relationshipId: R1, reason: 'done' }, TRAINER)).then([{ type: 'CoachingEnded', data: { relationshipId: R1, endedBy: 'trainer', reason: 'done' } }]);
    const ended: CoachingEvent = { type: 'CoachingEnded', data: { relationshipId: R1, endedBy: 'client' } };
    spec.given([invited, accepted]).when(coachingCmd('EndCoaching', { relationshipId: R1 }, CLIENT)).then([ended]);
    spec.given([invited, accepted, ended]).when(coachingCmd('EndCoaching', { relationshipId: R1 }, CLIENT)).thenNothingHappens();
    spec.given([invited, accepted, ended]).when(coachingCmd('AcceptCoaching', { relationshipId: R1 }, CLIENT)).thenThrows('RELATIONSHIP_ENDED', 'relationshipId');
  });
});

describe('read policy: owner, or trainer × organisation × relationship × consent scope', () => {
  const trainer: AccessCaller = { sub: TRAINER, role: 'trainer', tenantId: TENANT };
  const consentFor = (scopes: SharingScope[]): ConsentState => foldEvents(consentDecider, [{ type: 'ConsentGiven', data: { ...given.data, scopes } }]);
  const active = { status: 'active' as const, tenantId: TENANT };
  const asTrainer = { role: 'trainer', status: 'active' } as const;
  const request = (scope: SharingScope) => ({ subjectId: CLIENT, tenantId: TENANT, scope });

  it('allows the owner whatever their role, and a trainer only with every condition met (citing the consent version)', () => {
    expect(decideRead({ sub: CLIENT, role: 'client', tenantId: TENANT }, request('body_metrics'), { now: NOW })).toEqual({ allow: true, basis: 'owner' });
    expect(decideRead(trainer, request('workouts'), { coaching: active, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: true, basis: 'consent', consentId: C1, consentVersion: 1 });
    expect(decideRead(trainer, request('body_metrics'), { coaching: active, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'no_consent' });
    expect(decideRead(trainer, request('workouts'), { coaching: { status: 'invited', tenantId: TENANT }, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'no_relationship' });
    expect(decideRead(trainer, request('workouts'), { coaching: { status: 'ended', tenantId: TENANT }, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'no_relationship' });
    expect(decideRead({ ...trainer, tenantId: 'another-gym' }, request('workouts'), { coaching: active, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'organisation' });
    expect(decideRead({ ...trainer, sub: OTHER_TRAINER }, request('workouts'), { coaching: active, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'no_consent' });
    for (const role of ['client', 'org_admin', 'auditor', 'researcher', 'platform_admin'] as const) {
      expect(decideRead({ ...trainer, role }, request('workouts'), { coaching: active, consent: consentFor(['workouts']), membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'role' });
    }
  });

  it('needs the trainer to be an active trainer member of the organisation, whatever the token says', () => {
    const facts = { coaching: active, consent: consentFor(['workouts']), now: NOW };
    expect(decideRead(trainer, request('workouts'), facts)).toEqual({ allow: false, reason: 'membership' });
    expect(decideRead(trainer, request('workouts'), { ...facts, membership: { role: 'trainer', status: 'invited' } })).toEqual({ allow: false, reason: 'membership' });
    expect(decideRead(trainer, request('workouts'), { ...facts, membership: { role: 'client', status: 'active' } })).toEqual({ allow: false, reason: 'membership' });
    expect(decideRead(trainer, request('workouts'), { ...facts, membership: asTrainer })).toMatchObject({ allow: true, basis: 'consent' });
  });

  it('lets an org admin in only through their own open emergency grant, in their organisation', () => {
    const admin: AccessCaller = { sub: OTHER_TRAINER, role: 'org_admin', tenantId: TENANT };
    const emergency = foldEvents(emergencyAccessDecider, [
      { type: 'EmergencyAccessOpened', data: { grantId: R1, openedBy: OTHER_TRAINER, reason: 'collapsed on the gym floor', expiresAt: '2026-06-01T11:00:00.000Z' } },
    ]);
    const membership = { role: 'org_admin', status: 'active' } as const;
    expect(decideRead(admin, request('body_metrics'), { emergency, membership, now: NOW })).toEqual({ allow: true, basis: 'emergency', grantId: R1 });
    expect(decideRead(admin, request('body_metrics'), { emergency, membership, now: new Date('2026-06-01T11:00:00.000Z') })).toEqual({ allow: false, reason: 'role' });
    expect(decideRead({ ...admin, tenantId: 'another-gym' }, request('body_metrics'), { emergency, membership, now: NOW })).toEqual({ allow: false, reason: 'role' });
    expect(decideRead({ ...admin, role: 'auditor' }, request('body_metrics'), { emergency, membership, now: NOW })).toEqual({ allow: false, reason: 'role' });
    // Removed from the organisation (or never joined): the grant opened before no longer lets them in.
    expect(decideRead(admin, request('body_metrics'), { emergency, now: NOW })).toEqual({ allow: false, reason: 'role' });
    expect(decideRead(admin, request('body_metrics'), { emergency, membership: { role: 'org_admin', status: 'invited' }, now: NOW })).toEqual({ allow: false, reason: 'role' });
    expect(decideRead(trainer, request('workouts'), { emergency, membership: asTrainer, now: NOW })).toEqual({ allow: false, reason: 'no_relationship' });
  });

  it('never allows a trainer a scope the consent in force does not name (property)', () => {
    const scopes = fc.uniqueArray(fc.constantFrom(...SHARING_SCOPES), { minLength: 1 });
    fc.assert(
      fc.property(scopes, fc.constantFrom(...SHARING_SCOPES), fc.boolean(), fc.constantFrom<('invited' | 'active' | 'ended')[]>('invited', 'active', 'ended'), (granted, asked, withdrawn, status) => {
        const events: ConsentEvent[] = [{ type: 'ConsentGiven', data: { ...given.data, scopes: granted } }];
        if (withdrawn) events.push({ type: 'ConsentWithdrawn', data: { consentId: C1 } });
        const decision = decideRead(trainer, request(asked), { coaching: { status, tenantId: TENANT }, consent: foldEvents(consentDecider, events), membership: asTrainer, now: NOW });
        expect(decision.allow).toBe(granted.includes(asked) && !withdrawn && status === 'active');
      }),
    );
  });
});
