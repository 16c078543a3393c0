import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { ageInYears } from '../profile/profile';
import type { ObjectValidator } from '../validation/validator';
import { consentGivenValidator, consentGuardianConfirmedValidator, consentWithdrawnValidator } from './accessEventTypes';
import type { ConsentCommand } from './commands';
import type { ConsentEvent, ConsentGivenData, SharingScope } from './events';

/** One stream per subject holds all their consents; its revision + 1 is the consent version reads cite. */
export const consentStreamId = (subjectId: string): string => `consent-${subjectId}`;

/** Default age of digital consent (GDPR Art. 8 allows member states 13–16). */
export const DEFAULT_AGE_OF_DIGITAL_CONSENT = 16;

export interface ConsentRecord {
  readonly given: ConsentGivenData;
  /** The guardian confirmed (or none was needed). */
  readonly confirmed: boolean;
  readonly withdrawn: boolean;
  /** Consent version (events in the stream so far) when this consent last changed. */
  readonly changedAtVersion: number;
}

export interface ConsentState {
  /** Number of events in the subject's consent stream: the consent version. 0 = never consented. */
  readonly version: number;
  readonly consents: ReadonlyMap<string, ConsentRecord>;
}

export const initialConsentState = (): ConsentState => ({ version: 0, consents: new Map() });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

const sameGrant = (a: ConsentGivenData, b: ConsentGivenData): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * A subject's consents: given (by the subject; a minor's needs their guardian's confirmation),
 * confirmed by the named guardian, withdrawn by the subject. A withdrawn consent is final: a new
 * consent gets a new id.
 */
export function decideConsent(command: ConsentCommand, state: ConsentState): ConsentEvent[] {
  const { now, actor, subjectId } = command.metadata;
  // Only the subject gives and withdraws their consents; a guardian only confirms.
  if (command.type !== 'ConfirmConsentAsGuardian' && actor.sub !== subjectId) throw new DomainError('CONSENT_NOT_FOUND', 'no such consent', { field: 'consentId' });
  switch (command.type) {
    case 'GiveConsent': {
      const d = command.data;
      if (d.expiresAt !== undefined && Date.parse(d.expiresAt) <= now.getTime()) throw DomainError.invalidField('expiresAt', 'expiresAt must be in the future');
      if (d.trainerId !== undefined && d.trainerId === subjectId) throw DomainError.invalidField('trainerId', 'trainerId must be someone else');
      const minor = d.subjectBirthDate !== undefined && ageInYears(d.subjectBirthDate, now) < d.ageOfDigitalConsent;
      if (minor && d.guardianId === undefined) {
        throw DomainError.validation([{ field: 'guardianId', code: 'required', message: `below the age of digital consent (${d.ageOfDigitalConsent}) a guardian must confirm: name them in guardianId` }]);
      }
      if (d.guardianId !== undefined && (!minor || d.guardianId === subjectId)) {
        throw DomainError.invalidField('guardianId', minor ? 'guardianId must be someone else' : 'guardianId applies only below the age of digital consent');
      }
      const data = valid(consentGivenValidator, {
        consentId: d.consentId,
        purpose: d.purpose,
        ...(d.trainerId === undefined ? {} : { trainerId: d.trainerId }),
        ...(d.scopes === undefined ? {} : { scopes: d.scopes }),
        ...(d.provider === undefined ? {} : { provider: d.provider }),
        ...(d.expiresAt === undefined ? {} : { expiresAt: new Date(d.expiresAt).toISOString() }),
        ...(d.guardianId === undefined ? {} : { guardianId: d.guardianId }),
      });
      const existing = state.consents.get(d.consentId);
      if (existing === undefined) return [{ type: 'ConsentGiven', data }];
      if (sameGrant(existing.given, data)) return [];
      throw new DomainError('CONSENT_ALREADY_EXISTS', 'a consent with this id already exists', { field: 'consentId' });
    }
    case 'ConfirmConsentAsGuardian': {
      const existing = state.consents.get(command.data.consentId);
      // Only the named guardian learns that the consent exists.
      if (existing === undefined || existing.given.guardianId !== actor.sub) throw new DomainError('CONSENT_NOT_FOUND', 'no such consent awaiting your confirmation', { field: 'consentId' });
      if (existing.withdrawn) throw new DomainError('CONSENT_WITHDRAWN', 'the consent was withdrawn', { field: 'consentId' });
      if (existing.confirmed) return [];
      return [{ type: 'ConsentGuardianConfirmed', data: valid(consentGuardianConfirmedValidator, { consentId: command.data.consentId, guardianId: actor.sub }) }];
    }
    case 'WithdrawConsent': {
      const existing = state.consents.get(command.data.consentId);
      if (existing === undefined) throw new DomainError('CONSENT_NOT_FOUND', 'no such consent', { field: 'consentId' });
      if (existing.withdrawn) return [];
      return [{ type: 'ConsentWithdrawn', data: valid(consentWithdrawnValidator, { consentId: command.data.consentId, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveConsent(state: ConsentState, event: ConsentEvent): ConsentState {
  const version = state.version + 1;
  const consents = new Map(state.consents);
  switch (event.type) {
    case 'ConsentGiven':
      consents.set(event.data.consentId, { given: event.data, confirmed: event.data.guardianId === undefined, withdrawn: false, changedAtVersion: version });
      break;
    case 'ConsentGuardianConfirmed': {
      const record = consents.get(event.data.consentId);
      if (record) consents.set(event.data.consentId, { ...record, confirmed: true, changedAtVersion: version });
      break;
    }
    case 'ConsentWithdrawn': {
      const record = consents.get(event.data.consentId);
      if (record) consents.set(event.data.consentId, { ...record, withdrawn: true, changedAtVersion: version });
      break;
    }
    default: {
      const _: never = event;
      return state;
    }
  }
  return { version, consents };
}

export const consentDecider: Decider<ConsentState, ConsentCommand, ConsentEvent> = { initialState: initialConsentState, evolve: evolveConsent, decide: decideConsent };

/** In force at `now`: given, confirmed by the guardian when one was needed, not withdrawn, not expired. */
export function isConsentEffective(record: ConsentRecord, now: Date): boolean {
  return record.confirmed && !record.withdrawn && (record.given.expiresAt === undefined || Date.parse(record.given.expiresAt) > now.getTime());
}

/** The consent in force that lets `trainerId` see `scope` of the subject's data, if any. */
export function trainerSharingConsent(state: ConsentState, trainerId: string, scope: SharingScope, now: Date): ConsentRecord | undefined {
  for (const record of state.consents.values()) {
    const { given } = record;
    if (given.purpose === 'trainer_sharing' && given.trainerId === trainerId && given.scopes?.includes(scope) === true && isConsentEffective(record, now)) return record;
  }
  return undefined;
}
