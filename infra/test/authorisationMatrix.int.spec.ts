import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryCheckpointSink, openSigningKeyring, projectAuditBatch, publishCheckpoint } from '@fitledger/audit';
import { createTokenVerifier } from '@fitledger/auth';
import { consentDecider, foldEvents, initialEmergencyAccessState, SHARING_SCOPES, type ConsentEvent } from '@fitledger/domain';
import { defaultProjections } from '@fitledger/projections';
import { buildApp as buildQueryApp, eventStoreConsentReader, inProcessChangeSource, type ConsentReader } from '@fitledger/query-service';
import { signTestToken } from '@fitledger/testing/oidc';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeRefused, openFeed } from '../../query-service/src/testing/feedClient';
import { startPipeline, type Pipeline } from './pipeline';

// The authorisation matrix (issue 5): every route of both services × every role, against alice's
// own data, another subject's view of it and a foreign organisation's. Each cell's outcome is
// written by hand from the security rules (ARCHITECTURE.md "Security, privacy, audit"; the access
// policies in command-service and packages/domain), never copied from a run. Every refusal has a
// positive control in the same row: the rightful caller gets 2xx on the same resource.

// ---------------------------------------------------------------------------------------------
// Callers

/**
 * One caller per role, plus the other-subject and foreign-organisation classes:
 * - alice: client, the owner of every seeded resource.
 * - bob: client in alice's organisation (the other subject).
 * - coach: trainer with an active relationship with alice and her consent for `workouts` and `goals` (not `body_metrics`).
 * - trainer: trainer with an active relationship with alice but no consent.
 * - orgAdmin: org admin of alice's organisation (and admin of the seeded organisation); no emergency grant of his own.
 * - auditor, researcher, platformAdmin: the other roles, in alice's organisation.
 * - foreign: a client of another organisation (another tenant_id).
 * - foreignTrainer: a trainer of another organisation who holds alice's consent for every scope — but no relationship in her organisation.
 */
const CALLERS = ['alice', 'bob', 'coach', 'trainer', 'orgAdmin', 'auditor', 'researcher', 'platformAdmin', 'foreign', 'foreignTrainer'] as const;
type Caller = (typeof CALLERS)[number];

/**
 * - 'ok': the rightful caller on this resource: 2xx (a read shows the row's data);
 * - 'own': 2xx about the caller's own data only (a list or their own stream): never alice's;
 * - a status: refused with exactly it; a refused write appends no event; no refusal carries alice's data.
 */
type Outcome = 'ok' | 'own' | 403 | 404 | 422;
type Outcomes = Readonly<Record<Caller, Outcome>>;

// ---------------------------------------------------------------------------------------------
// Expected outcomes by rule, each caller written out.

/** Own-data reads by id (GET /workouts/{id}, …): only the owner; anyone else's id answers 404, so existence does not leak. */
const OWNER_READ: Outcomes = { alice: 'ok', bob: 404, coach: 404, trainer: 404, orgAdmin: 404, auditor: 404, researcher: 404, platformAdmin: 404, foreign: 404, foreignTrainer: 404 };
/** GET /profile names nobody: the caller's own profile (bob has one, seeded); those without one get 404, never alice's. */
const OWN_PROFILE_READ: Outcomes = { alice: 'ok', bob: 'own', coach: 404, trainer: 404, orgAdmin: 404, auditor: 404, researcher: 404, platformAdmin: 404, foreign: 404, foreignTrainer: 404 };
/** Own-data lists: every role reads its own (here: nothing of alice's). */
const OWN_LIST: Outcomes = { alice: 'ok', bob: 'own', coach: 'own', trainer: 'own', orgAdmin: 'own', auditor: 'own', researcher: 'own', platformAdmin: 'own', foreign: 'own', foreignTrainer: 'own' };
/** /clients/{alice}/… in a scope she consented to the coach (workouts, goals): the owner and the coach; 403 for everyone else (role, no consent, other organisation). */
const CONSENTED_SCOPE: Outcomes = { alice: 'ok', bob: 403, coach: 'ok', trainer: 403, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 403, foreignTrainer: 403 };
/** /clients/{alice}/… in a scope she did not consent to the coach (body_metrics): the owner only. */
const UNCONSENTED_SCOPE: Outcomes = { alice: 'ok', bob: 403, coach: 403, trainer: 403, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 403, foreignTrainer: 403 };
/** Changes to a person's own health record (workouts, measurements, goals, plans): clients and trainers record their own (others' ids 404); other roles never write health data (403). */
const OWNER_CHANGE: Outcomes = { alice: 'ok', bob: 404, coach: 404, trainer: 404, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 404, foreignTrainer: 404 };
/** Creating with alice's existing id in the body: taken (422, like any taken id), never written into her stream. */
const OWNER_CREATE: Outcomes = { alice: 'ok', bob: 422, coach: 422, trainer: 422, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 422, foreignTrainer: 422 };
/** Exercises and templates: org admins author too; only the author changes one (404 to anyone else). */
const AUTHOR_CHANGE: Outcomes = { alice: 'ok', bob: 404, coach: 404, trainer: 404, orgAdmin: 404, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 404, foreignTrainer: 404 };
const AUTHOR_CREATE: Outcomes = { alice: 'ok', bob: 422, coach: 422, trainer: 422, orgAdmin: 422, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 422, foreignTrainer: 422 };
/** The caller's own profile (no way to name anyone else's): clients and trainers keep one; other roles 403. */
const OWN_PROFILE_WRITE: Outcomes = { alice: 'ok', bob: 'own', coach: 'own', trainer: 'own', orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 'own', foreignTrainer: 'own' };
/** Anyone gives consents in their own consent stream. */
const OWN_CONSENT_WRITE: Outcomes = { alice: 'ok', bob: 'own', coach: 'own', trainer: 'own', orgAdmin: 'own', auditor: 'own', researcher: 'own', platformAdmin: 'own', foreign: 'own', foreignTrainer: 'own' };
/** Acting on something only alice is a party to (her consent, her invitation, a grant to her data): 404 to everyone else. */
const ALICE_ONLY: Outcomes = { alice: 'ok', bob: 404, coach: 404, trainer: 404, orgAdmin: 404, auditor: 404, researcher: 404, platformAdmin: 404, foreign: 404, foreignTrainer: 404 };
/** Invitations: trainers only (403); a trainer naming another's relationship id gets "exists" (422). */
const TRAINER_INVITES: Outcomes = { alice: 403, bob: 403, coach: 'ok', trainer: 422, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 403, foreignTrainer: 422 };
/** Break-glass opens: org admins only. */
const ORG_ADMIN_OPENS: Outcomes = { alice: 403, bob: 403, coach: 403, trainer: 403, orgAdmin: 'ok', auditor: 403, researcher: 403, platformAdmin: 403, foreign: 403, foreignTrainer: 403 };
/** Break-glass reviews: auditors and platform admins only. */
const REVIEWERS: Outcomes = { alice: 403, bob: 403, coach: 403, trainer: 403, orgAdmin: 403, auditor: 'ok', researcher: 403, platformAdmin: 'ok', foreign: 403, foreignTrainer: 403 };
/** Organisations are created by platform admins only. */
const PLATFORM_ADMIN_CREATES: Outcomes = { alice: 403, bob: 403, coach: 403, trainer: 403, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 'ok', foreign: 403, foreignTrainer: 403 };
/**
 * Inside an organisation its membership decides, not the token's role: non-admins get NOT_ORGANISATION_ADMIN (422).
 * The platform admin too: creation is all the platform role grants (routes/organisations.ts: "a token cannot grant
 * itself a role"; the member list answers him 404). These cells fail today: `administers()` in
 * packages/domain/src/access/organisation.ts lets any platform_admin token act as an admin of every organisation.
 */
const ORG_MEMBERSHIP_ADMIN: Outcomes = { alice: 422, bob: 422, coach: 422, trainer: 422, orgAdmin: 'ok', auditor: 422, researcher: 422, platformAdmin: 422, foreign: 422, foreignTrainer: 422 };
/** Joining takes an invitation (the coach has one; the org admin is a member already: a no-op); others 422 INVITATION_NOT_FOUND. */
const INVITEE_JOINS: Outcomes = { alice: 422, bob: 422, coach: 'ok', trainer: 422, orgAdmin: 'own', auditor: 422, researcher: 422, platformAdmin: 422, foreign: 422, foreignTrainer: 422 };
/** An organisation's member list: its active org admins only; 404 to anyone else. */
const ORG_ADMIN_READS: Outcomes = { alice: 404, bob: 404, coach: 404, trainer: 404, orgAdmin: 'ok', auditor: 404, researcher: 404, platformAdmin: 404, foreign: 404, foreignTrainer: 404 };
/** A trainer's own relationship list: the coach's and the trainer's relationships with alice; everyone else lists their own. */
const TRAINERS_LIST: Outcomes = { alice: 'own', bob: 'own', coach: 'ok', trainer: 'ok', orgAdmin: 'own', auditor: 'own', researcher: 'own', platformAdmin: 'own', foreign: 'own', foreignTrainer: 'own' };
/** The caller's memberships: the org admin's and the coach's (invited) memberships; everyone else lists their own. */
const MEMBERS_LIST: Outcomes = { alice: 'own', bob: 'own', coach: 'ok', trainer: 'own', orgAdmin: 'ok', auditor: 'own', researcher: 'own', platformAdmin: 'own', foreign: 'own', foreignTrainer: 'own' };
/** The review queue: auditors (their organisation) and platform admins; 403 for other roles. */
const REVIEW_QUEUE: Outcomes = REVIEWERS;
/** The audit trail (history, state as of, disclosures): auditors of alice's organisation and platform admins; 403 for every other role. */
const AUDITORS: Outcomes = { alice: 403, bob: 403, coach: 403, trainer: 403, orgAdmin: 403, auditor: 'ok', researcher: 403, platformAdmin: 'ok', foreign: 403, foreignTrainer: 403 };
/** Who has seen my data: alice sees the others' attempts on hers; everyone else their own view, never hers. */
const OWN_ACCESS_LOG: Outcomes = { alice: 'ok', bob: 'own', coach: 'own', trainer: 'own', orgAdmin: 'own', auditor: 'own', researcher: 'own', platformAdmin: 'own', foreign: 'own', foreignTrainer: 'own' };
/** Assigning a workout into a client's record: a trainer with an active relationship and her consent to workouts; everyone else 403 (the owner writes through /workouts). */
const TRAINER_ASSIGNS: Outcomes = { alice: 403, bob: 403, coach: 'ok', trainer: 403, orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 403, foreignTrainer: 403 };
/** The organisation's leaderboard: every member of alice's organisation sees the opted-in (bob); another organisation's callers see their own (empty) board. */
const ORG_LEADERBOARD: Outcomes = { alice: 'ok', bob: 'ok', coach: 'ok', trainer: 'ok', orgAdmin: 'ok', auditor: 'ok', researcher: 'ok', platformAdmin: 'ok', foreign: 'own', foreignTrainer: 'own' };
/** A template shared with alice's organisation: everyone in it reads it; another organisation's callers get 404. */
const ORG_SHARED_READ: Outcomes = { alice: 'ok', bob: 'ok', coach: 'ok', trainer: 'ok', orgAdmin: 'ok', auditor: 'ok', researcher: 'ok', platformAdmin: 'ok', foreign: 404, foreignTrainer: 404 };
/** Planning a workout from a shared template: the organisation's recorders; roles that record no workouts 403; another organisation 404. */
const ORG_SHARED_USE: Outcomes = { alice: 'ok', bob: 'ok', coach: 'ok', trainer: 'ok', orgAdmin: 403, auditor: 403, researcher: 403, platformAdmin: 403, foreign: 404, foreignTrainer: 404 };

// ---------------------------------------------------------------------------------------------
// Seeded data: distinctive values of alice's, which no refused or own-data answer may contain.

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const PHI = {
  workoutTitle: 'Zephyrine squat day',
  setLoadKg: 123.45,
  weightKg: 61.37,
  measurementNote: 'Zephyrine weigh-in after the fast',
  goalWeightKg: 58.76,
  birthDate: '1987-06-15',
  templateName: 'Zephyrine private template',
  planName: 'Zephyrine weekly plan',
  exerciseName: 'Zephyrine press',
  grantReason: 'Zephyrine collapsed in the gym; the paramedics ask for her data',
} as const;
const SHARED_TEMPLATE_NAME = 'Team warm-up';
const ORGANISATION_NAME = 'Riverside Matrix Gym';

interface Fixtures {
  readonly sub: Readonly<Record<Caller, string>>;
  readonly token: Readonly<Record<Caller, string>>;
  /** Everything of alice's that must never reach a refused or own-data answer. */
  readonly phi: readonly string[];
  readonly workout: string;
  readonly setToChange: string;
  readonly plannedWorkout: string;
  readonly workoutToComplete: string;
  readonly workoutToCancel: string;
  readonly measurement: string;
  readonly measurementToCorrect: string;
  readonly measurementToDelete: string;
  readonly exercise: string;
  readonly exerciseToArchive: string;
  readonly template: string;
  readonly templateToArchive: string;
  readonly sharedTemplate: string;
  readonly plan: string;
  readonly planToArchive: string;
  readonly goal: string;
  readonly goalToCancel: string;
  readonly coachConsent: string;
  readonly consentToWithdraw: string;
  readonly minor: string;
  readonly minorConsent: string;
  readonly relationship: string;
  readonly invitation: string;
  readonly relationshipAliceEnds: string;
  readonly relationshipCoachEnds: string;
  readonly grant: string;
  readonly grantForPlatformAdmin: string;
  readonly organisation: string;
  readonly member: string;
  readonly memberToRemove: string;
  readonly newcomer: string;
}

// ---------------------------------------------------------------------------------------------
// The matrix: one row per route (a few routes have a second row for another rule).

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Row {
  readonly method: Method;
  /** As in the OpenAPI document. */
  readonly path: string;
  readonly rule: string;
  readonly expect: Outcomes;
  /** The request of `caller` (a create names alice's id for everyone but her; each reviewer reviews a grant of their own). */
  readonly request: (fx: Fixtures, caller: Caller) => { readonly url: string; readonly body?: object };
  /** What a rightful read shows and nobody else may see. */
  readonly shows?: (fx: Fixtures) => readonly string[];
  /** What no caller may see, the rightful ones included. */
  readonly never?: (fx: Fixtures) => readonly string[];
}

const A = '/api/v1';
const get = (path: string, rule: string, expected: Outcomes, url: (fx: Fixtures) => string, shows?: (fx: Fixtures) => readonly string[]): Row => ({
  method: 'GET',
  path,
  rule,
  expect: expected,
  request: (fx) => ({ url: url(fx) }),
  ...(shows === undefined ? {} : { shows }),
});
const write = (method: Method, path: string, rule: string, expected: Outcomes, request: Row['request']): Row => ({ method, path, rule, expect: expected, request });
/** alice creates afresh; everyone else names her existing id. */
const takeover = (url: string, body: object, idField: string, id: (fx: Fixtures) => string) => (fx: Fixtures, caller: Caller) => ({ url, body: caller === 'alice' ? body : { ...body, [idField]: id(fx) } });

const workoutBody = { start: true, title: 'Matrix session' };
const setBody = { set: { exerciseId: SQUAT, reps: 4, load: { value: 70, unit: 'kg' } } };
const weighIn = { measurement: { metric: 'weight', weight: { value: 70, unit: 'kg' } } };
const exerciseDefinition = { name: 'Matrix curl', category: 'strength', level: 'intermediate', primaryMuscles: ['shoulders'], equipment: 'barbell' };
const emptyPlan = { name: 'Matrix plan', timeZone: 'Europe/Berlin', startsOn: '2026-03-16', entries: [] };

const ROWS: readonly Row[] = [
  // ---- query service: own data
  get(`${A}/workouts`, 'lists only the caller’s workouts', OWN_LIST, () => `${A}/workouts`, () => [PHI.workoutTitle]),
  get(`${A}/workouts/{workoutId}`, 'a workout by id: owner only, 404 otherwise', OWNER_READ, (fx) => `${A}/workouts/${fx.workout}`, () => [PHI.workoutTitle, String(PHI.setLoadKg)]),
  get(`${A}/personal-records`, 'lists only the caller’s records', OWN_LIST, () => `${A}/personal-records`, () => [String(PHI.setLoadKg)]),
  get(`${A}/body-metrics`, 'lists only the caller’s measurements', OWN_LIST, () => `${A}/body-metrics?metric=weight`, () => [String(PHI.weightKg), PHI.measurementNote]),
  get(`${A}/body-metrics/{measurementId}`, 'a measurement by id: owner only', OWNER_READ, (fx) => `${A}/body-metrics/${fx.measurement}`, () => [String(PHI.weightKg), PHI.measurementNote]),
  get(`${A}/profile`, 'the caller’s own profile only', OWN_PROFILE_READ, () => `${A}/profile`, () => [PHI.birthDate]),
  get(`${A}/templates`, 'own and organisation-shared templates, never someone’s private one', OWN_LIST, () => `${A}/templates`, () => [PHI.templateName]),
  get(`${A}/templates/{templateId}`, 'a private template: author only', OWNER_READ, (fx) => `${A}/templates/${fx.template}`, () => [PHI.templateName]),
  get(`${A}/templates/{templateId}`, 'a template shared with the organisation: its members, not another organisation', ORG_SHARED_READ, (fx) => `${A}/templates/${fx.sharedTemplate}`, () => [SHARED_TEMPLATE_NAME]),
  get(`${A}/plans`, 'lists only the caller’s plans', OWN_LIST, () => `${A}/plans`, () => [PHI.planName]),
  get(`${A}/plans/{planId}`, 'a plan by id: owner only', OWNER_READ, (fx) => `${A}/plans/${fx.plan}`, () => [PHI.planName]),
  get(`${A}/plans/{planId}/schedule`, 'a plan’s schedule: owner only', OWNER_READ, (fx) => `${A}/plans/${fx.plan}/schedule?from=2026-03-23&to=2026-04-02`, () => [PHI.templateName]),
  get(`${A}/streaks`, 'the caller’s own streaks', OWN_LIST, () => `${A}/streaks?perWeek=1`),
  get(`${A}/goals`, 'lists only the caller’s goals', OWN_LIST, () => `${A}/goals`, () => [String(PHI.goalWeightKg)]),
  get(`${A}/goals/{goalId}`, 'a goal by id: owner only', OWNER_READ, (fx) => `${A}/goals/${fx.goal}`, () => [String(PHI.goalWeightKg)]),
  get(`${A}/exports/workouts.csv`, 'exports only the caller’s workouts', OWN_LIST, () => `${A}/exports/workouts.csv`, () => [PHI.workoutTitle, String(PHI.setLoadKg)]),
  get(`${A}/exports/body-metrics.csv`, 'exports only the caller’s measurements', OWN_LIST, () => `${A}/exports/body-metrics.csv`, () => [String(PHI.weightKg), PHI.measurementNote]),
  {
    ...get(`${A}/leaderboard`, 'the caller’s organisation, opted-in profiles only: alice’s private profile never shows', ORG_LEADERBOARD, () => `${A}/leaderboard`, (fx) => [fx.sub.bob]),
    never: (fx) => [fx.sub.alice],
  },
  get(`${A}/exercises`, 'search shows someone’s private exercise to its author only', OWN_LIST, () => `${A}/exercises?q=zephyrine`, () => [PHI.exerciseName]),
  get(`${A}/exercises/suggest`, 'suggestions show someone’s private exercise to its author only', OWN_LIST, () => `${A}/exercises/suggest?prefix=zephyr`, () => [PHI.exerciseName]),
  get(`${A}/exercises/{exerciseId}`, 'a private exercise by id: author only', OWNER_READ, (fx) => `${A}/exercises/${fx.exercise}`, () => [PHI.exerciseName]),
  // ---- query service: access lists
  get(`${A}/clients`, 'a trainer’s own relationships', TRAINERS_LIST, () => `${A}/clients`, (fx) => [fx.sub.alice]),
  get(`${A}/coaching`, 'a client’s own trainers', OWN_LIST, () => `${A}/coaching`, (fx) => [fx.relationship]),
  get(`${A}/consents`, 'the caller’s own consents', OWN_LIST, () => `${A}/consents`, (fx) => [fx.coachConsent]),
  get(`${A}/memberships`, 'the caller’s own memberships', MEMBERS_LIST, () => `${A}/memberships`, () => [ORGANISATION_NAME]),
  get(`${A}/organisations/{organisationId}/members`, 'members: the organisation’s active admins only (by membership, not token role)', ORG_ADMIN_READS, (fx) => `${A}/organisations/${fx.organisation}/members`, (fx) => [fx.member]),
  get(`${A}/emergency-access`, 'emergency access to the caller’s own data', OWN_LIST, () => `${A}/emergency-access`, () => [PHI.grantReason]),
  get(`${A}/emergency-access/review-queue`, 'the review queue: auditors and platform admins', REVIEW_QUEUE, () => `${A}/emergency-access/review-queue`, (fx) => [fx.grant]),
  // ---- query service: a client's data by relationship and consent
  get(`${A}/clients/{clientId}/workouts`, 'a client’s workouts: owner, or trainer with relationship and consent for workouts', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/workouts`, () => [PHI.workoutTitle]),
  get(`${A}/clients/{clientId}/workouts/{workoutId}`, 'one of a client’s workouts: as above', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/workouts/${fx.workout}`, () => [PHI.workoutTitle, String(PHI.setLoadKg)]),
  get(`${A}/clients/{clientId}/personal-records`, 'a client’s records: scope workouts', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/personal-records`, () => [String(PHI.setLoadKg)]),
  get(`${A}/clients/{clientId}/streaks`, 'a client’s streaks: scope workouts', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/streaks?perWeek=1`),
  get(`${A}/clients/{clientId}/body-metrics`, 'a client’s measurements: scope body_metrics (not consented to anyone in her organisation)', UNCONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/body-metrics?metric=weight`, () => [String(PHI.weightKg)]),
  get(`${A}/clients/{clientId}/body-metrics/{measurementId}`, 'one of a client’s measurements: as above', UNCONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/body-metrics/${fx.measurement}`, () => [String(PHI.weightKg), PHI.measurementNote]),
  get(`${A}/clients/{clientId}/goals`, 'a client’s goals: scope goals', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/goals`, () => [String(PHI.goalWeightKg)]),
  get(`${A}/clients/{clientId}/goals/{goalId}`, 'one of a client’s goals: scope goals', CONSENTED_SCOPE, (fx) => `${A}/clients/${fx.sub.alice}/goals/${fx.goal}`, () => [String(PHI.goalWeightKg)]),

  // ---- command service: workouts
  write('POST', `${A}/workouts`, 'a taken workout id is nobody else’s to write', OWNER_CREATE, takeover(`${A}/workouts`, workoutBody, 'workoutId', (fx) => fx.workout)),
  write('POST', `${A}/workouts/{workoutId}/start`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.plannedWorkout}/start`, body: {} })),
  write('POST', `${A}/workouts/{workoutId}/sets`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workout}/sets`, body: setBody })),
  write('PUT', `${A}/workouts/{workoutId}/sets/{setId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workout}/sets/${fx.setToChange}`, body: setBody })),
  write('DELETE', `${A}/workouts/{workoutId}/sets/{setId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workout}/sets/${fx.setToChange}`, body: {} })),
  write('POST', `${A}/workouts/{workoutId}/complete`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workoutToComplete}/complete`, body: {} })),
  write('POST', `${A}/workouts/{workoutId}/cancel`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workoutToCancel}/cancel`, body: {} })),
  write('POST', `${A}/clients/{clientId}/workouts`, 'a trainer assigns into a client’s record with relationship and consent to workouts', TRAINER_ASSIGNS, (fx) => ({
    url: `${A}/clients/${fx.sub.alice}/workouts`,
    body: { title: 'Assigned squats', plannedFor: '2026-09-01T07:00:00.000Z' },
  })),
  write('POST', `${A}/workouts/{workoutId}/clone`, 'only one’s own workout is a clone source', OWNER_CHANGE, (fx) => ({ url: `${A}/workouts/${fx.workout}/clone`, body: {} })),
  // ---- exercises
  write('POST', `${A}/exercises`, 'a taken exercise id is nobody else’s to write', AUTHOR_CREATE, takeover(`${A}/exercises`, exerciseDefinition, 'exerciseId', (fx) => fx.exercise)),
  write('PUT', `${A}/exercises/{exerciseId}`, 'author only', AUTHOR_CHANGE, (fx) => ({ url: `${A}/exercises/${fx.exercise}`, body: { ...exerciseDefinition, name: PHI.exerciseName } })),
  write('DELETE', `${A}/exercises/{exerciseId}`, 'author only', AUTHOR_CHANGE, (fx) => ({ url: `${A}/exercises/${fx.exerciseToArchive}`, body: {} })),
  // ---- body metrics
  write('POST', `${A}/body-metrics`, 'a taken measurement id is nobody else’s to write', OWNER_CREATE, takeover(`${A}/body-metrics`, weighIn, 'measurementId', (fx) => fx.measurement)),
  write('PUT', `${A}/body-metrics/{measurementId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/body-metrics/${fx.measurementToCorrect}`, body: weighIn })),
  write('DELETE', `${A}/body-metrics/{measurementId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/body-metrics/${fx.measurementToDelete}`, body: {} })),
  // ---- profile
  write('PUT', `${A}/profile`, 'the caller’s own profile only', OWN_PROFILE_WRITE, () => ({ url: `${A}/profile`, body: { timeZone: 'Europe/London' } })),
  // ---- templates
  write('POST', `${A}/templates`, 'a taken template id is nobody else’s to write', AUTHOR_CREATE, takeover(`${A}/templates`, { name: 'Matrix template', plannedSets: [] }, 'templateId', (fx) => fx.template)),
  write('PUT', `${A}/templates/{templateId}`, 'author only', AUTHOR_CHANGE, (fx) => ({ url: `${A}/templates/${fx.template}`, body: { name: PHI.templateName, plannedSets: [] } })),
  write('PUT', `${A}/templates/{templateId}`, 'a shared template is still changed by its author only', AUTHOR_CHANGE, (fx) => ({ url: `${A}/templates/${fx.sharedTemplate}`, body: { name: SHARED_TEMPLATE_NAME, plannedSets: [], visibility: 'organisation' } })),
  write('DELETE', `${A}/templates/{templateId}`, 'author only', AUTHOR_CHANGE, (fx) => ({ url: `${A}/templates/${fx.templateToArchive}`, body: {} })),
  write('POST', `${A}/templates/{templateId}/instantiate`, 'a private template: its author only', OWNER_CHANGE, (fx) => ({ url: `${A}/templates/${fx.template}/instantiate`, body: { plannedFor: '2026-08-01T07:00:00.000Z' } })),
  write('POST', `${A}/templates/{templateId}/instantiate`, 'a shared template: the organisation’s recorders', ORG_SHARED_USE, (fx) => ({ url: `${A}/templates/${fx.sharedTemplate}/instantiate`, body: { plannedFor: '2026-08-02T07:00:00.000Z' } })),
  // ---- goals
  write('POST', `${A}/goals`, 'a taken goal id is nobody else’s to write', OWNER_CREATE, takeover(`${A}/goals`, { target: { kind: 'streak', days: 3 }, startsOn: '2026-03-01', endsOn: '2027-03-01' }, 'goalId', (fx) => fx.goal)),
  write('DELETE', `${A}/goals/{goalId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/goals/${fx.goalToCancel}`, body: {} })),
  // ---- plans
  write('POST', `${A}/plans`, 'a taken plan id is nobody else’s to write', OWNER_CREATE, takeover(`${A}/plans`, emptyPlan, 'planId', (fx) => fx.plan)),
  write('PUT', `${A}/plans/{planId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/plans/${fx.plan}`, body: { ...emptyPlan, name: PHI.planName } })),
  write('DELETE', `${A}/plans/{planId}`, 'owner only', OWNER_CHANGE, (fx) => ({ url: `${A}/plans/${fx.planToArchive}`, body: {} })),
  write('POST', `${A}/clients/{clientId}/plans`, 'a trainer assigns a plan into a client’s record with relationship and consent to workouts', TRAINER_ASSIGNS, (fx) => ({
    url: `${A}/clients/${fx.sub.alice}/plans`,
    body: { ...emptyPlan, entries: [{ weekday: 2, time: '18:00', templateId: fx.sharedTemplate }] },
  })),
  // ---- consent and coaching
  write('POST', `${A}/consents`, 'consents go into the caller’s own stream', OWN_CONSENT_WRITE, () => ({ url: `${A}/consents`, body: { purpose: 'data_processing' } })),
  write('DELETE', `${A}/consents/{consentId}`, 'only the subject withdraws her consent', ALICE_ONLY, (fx) => ({ url: `${A}/consents/${fx.consentToWithdraw}`, body: {} })),
  write('POST', `${A}/consents/{subjectId}/{consentId}/guardian-confirmation`, 'only the named guardian confirms a minor’s consent', ALICE_ONLY, (fx) => ({ url: `${A}/consents/${fx.minor}/${fx.minorConsent}/guardian-confirmation`, body: {} })),
  write('POST', `${A}/coaching/invitations`, 'trainers invite; another trainer’s relationship id is taken', TRAINER_INVITES, (fx, caller) => ({
    url: `${A}/coaching/invitations`,
    body: caller === 'coach' ? { clientId: fx.sub.bob } : caller === 'trainer' || caller === 'foreignTrainer' ? { relationshipId: fx.relationship, clientId: fx.sub.alice } : { clientId: fx.sub.alice },
  })),
  write('POST', `${A}/coaching/{relationshipId}/accept`, 'only the invited client accepts', ALICE_ONLY, (fx) => ({ url: `${A}/coaching/${fx.invitation}/accept`, body: {} })),
  write('POST', `${A}/coaching/{relationshipId}/end`, 'only a party ends a relationship (the coach ends his own one)', { ...ALICE_ONLY, coach: 'ok' }, (fx, caller) => ({
    url: `${A}/coaching/${caller === 'coach' ? fx.relationshipCoachEnds : fx.relationshipAliceEnds}/end`,
    body: {},
  })),
  // ---- emergency access
  write('POST', `${A}/emergency-access`, 'org admins open emergency access', ORG_ADMIN_OPENS, (fx) => ({ url: `${A}/emergency-access`, body: { subjectId: fx.sub.bob, reason: 'Member fainted during a class; checking heart data', minutes: 30 } })),
  write('POST', `${A}/emergency-access/{subjectId}/{grantId}/close`, 'the opener or the subject closes it', ALICE_ONLY, (fx) => ({ url: `${A}/emergency-access/${fx.sub.alice}/${fx.grant}/close`, body: {} })),
  write('POST', `${A}/emergency-access/{subjectId}/{grantId}/review`, 'auditors and platform admins review (each his own grant here)', REVIEWERS, (fx, caller) => ({
    url: `${A}/emergency-access/${fx.sub.alice}/${caller === 'platformAdmin' ? fx.grantForPlatformAdmin : fx.grant}/review`,
    body: { outcome: 'justified' },
  })),
  // ---- organisations
  write('POST', `${A}/organisations`, 'platform admins create organisations', PLATFORM_ADMIN_CREATES, (fx) => ({ url: `${A}/organisations`, body: { name: 'Matrix Studio', kind: 'studio', firstAdminId: fx.sub.bob } })),
  write('POST', `${A}/organisations/{organisationId}/invitations`, 'the organisation’s admins invite', ORG_MEMBERSHIP_ADMIN, (fx) => ({ url: `${A}/organisations/${fx.organisation}/invitations`, body: { subjectId: fx.newcomer, role: 'trainer' } })),
  write('POST', `${A}/organisations/{organisationId}/join`, 'the invited person joins', INVITEE_JOINS, (fx) => ({ url: `${A}/organisations/${fx.organisation}/join`, body: {} })),
  write('PUT', `${A}/organisations/{organisationId}/members/{subjectId}/role`, 'the organisation’s admins change roles', ORG_MEMBERSHIP_ADMIN, (fx) => ({ url: `${A}/organisations/${fx.organisation}/members/${fx.member}/role`, body: { role: 'client' } })),
  write('DELETE', `${A}/organisations/{organisationId}/members/{subjectId}`, 'the organisation’s admins remove others', ORG_MEMBERSHIP_ADMIN, (fx) => ({ url: `${A}/organisations/${fx.organisation}/members/${fx.memberToRemove}`, body: {} })),
  // ---- audit trail (last: the cells above have left their access records)
  get(`${A}/audit/records/{streamId}/history`, 'a record’s history: auditors of its organisation', AUDITORS, (fx) => `${A}/audit/records/workout-${fx.workout}/history`, (fx) => [fx.sub.alice]),
  get(`${A}/audit/records/{streamId}/state`, 'a record as of a time: auditors of its organisation', AUDITORS, (fx) => `${A}/audit/records/workout-${fx.workout}/state?asOf=2100-01-01T00:00:00Z`, () => [PHI.workoutTitle]),
  get(`${A}/audit/access-records`, 'the accounting of disclosures: auditors', AUDITORS, (fx) => `${A}/audit/access-records?actorSub=${fx.sub.bob}&limit=200`, (fx) => [fx.workout]),
  get(`${A}/audit/access-records/export`, 'the disclosures export: auditors', AUDITORS, (fx) => `${A}/audit/access-records/export?actorSub=${fx.sub.bob}`, (fx) => [fx.workout]),
  get(`${A}/access-log`, 'who has seen my data: the caller’s own', OWN_ACCESS_LOG, () => `${A}/access-log?limit=200`, (fx) => [fx.sub.bob]),
  get(`${A}/audit/checkpoints/latest`, 'the latest signed checkpoint: auditors', AUDITORS, () => `${A}/audit/checkpoints/latest`, () => ['matrix.fitledger.test/audit']),
  get(`${A}/audit/proofs/inclusion`, 'an inclusion proof: auditors', AUDITORS, () => `${A}/audit/proofs/inclusion?seq=3&size=10`),
  get(`${A}/audit/proofs/consistency`, 'a consistency proof: auditors', AUDITORS, () => `${A}/audit/proofs/consistency?from=5&to=10`),
];

/** Websocket feeds: covered by their own handshake test below. */
const FEEDS = [`${A}/feed`, `${A}/clients/{clientId}/feed`];
/** Open or browser-login routes, covered by their own suites. */
const excluded = (path: string): boolean => path === '/healthz' || path === '/readyz' || path === '/openapi.json' || path.startsWith('/docs') || path.startsWith('/auth/') || FEEDS.includes(path);

const cellsOf = (outcome: (o: Outcome) => boolean) => ROWS.reduce((n, row) => n + CALLERS.filter((c) => outcome(row.expect[c])).length, 0);
const ROUTES = new Set(ROWS.map((r) => `${r.method} ${r.path}`)).size;
const CELLS = ROWS.length * CALLERS.length;
const DENIED = cellsOf((o) => typeof o === 'number');
const OWN = cellsOf((o) => o === 'own');
const RIGHTFUL = cellsOf((o) => o === 'ok');

// ---------------------------------------------------------------------------------------------
// Running a cell

interface Target {
  readonly query: FastifyInstance;
  readonly pipeline: Pipeline;
}
interface CellResult {
  readonly url: string;
  readonly status: number;
  readonly body: string;
  readonly appended: number;
}

async function runCell(target: Target, fx: Fixtures, row: Row, caller: Caller): Promise<CellResult> {
  const { url, body } = row.request(fx, caller);
  const token = fx.token[caller];
  if (row.method === 'GET') {
    const response = await target.query.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    return { url, status: response.statusCode, body: response.body, appended: 0 };
  }
  const { env } = target.pipeline;
  const before = await env.countEvents();
  const response = await env.inject(row.method, url, { token, body: body ?? {} });
  return { url, status: response.statusCode, body: response.body, appended: (await env.countEvents()) - before };
}

interface Verdict {
  /** What differs from the expectation; undefined when the cell is as expected. */
  readonly mismatch?: string;
  /** A refused or own-data cell that reached alice's data (a 2xx where a refusal was due, her data in the body, or an event appended). */
  readonly unauthorised: boolean;
}

function judge(fx: Fixtures, row: Row, expected: Outcome, result: CellResult): Verdict {
  const success = result.status >= 200 && result.status < 300;
  const shows = row.shows?.(fx) ?? [];
  const never = (row.never?.(fx) ?? []).filter((s) => result.body.includes(s));
  if (never.length > 0) return { mismatch: `answered ${result.status} with ${never.join(', ')}`, unauthorised: true };
  if (expected === 'ok') {
    if (!success) return { mismatch: `expected 2xx, got ${result.status} ${result.body.slice(0, 200)}`, unauthorised: false };
    const missing = shows.filter((s) => !result.body.includes(s));
    return missing.length > 0 ? { mismatch: `2xx without ${missing.join(', ')} (positive control shows nothing)`, unauthorised: false } : { unauthorised: false };
  }
  // A problem's `instance` echoes the request path: a value the caller put there himself is no leak.
  const leaked = [...fx.phi, ...shows].filter((s) => result.body.includes(s) && !result.url.includes(s));
  if (leaked.length > 0) return { mismatch: `answered ${result.status} with ${leaked.join(', ')}`, unauthorised: true };
  if (expected === 'own') return success ? { unauthorised: false } : { mismatch: `expected 2xx on the caller’s own data, got ${result.status}`, unauthorised: false };
  if (result.appended !== 0) return { mismatch: `expected ${expected}, got ${result.status} and ${result.appended} event(s) appended`, unauthorised: true };
  if (result.status !== expected) return { mismatch: `expected ${expected}, got ${result.status} ${result.body.slice(0, 200)}`, unauthorised: success };
  return { unauthorised: false };
}

/** Runs a row: refusals and own-data cells first, then the rightful callers (the positive controls), so no write of theirs changes what the others are refused. */
async function runRow(target: Target, fx: Fixtures, row: Row): Promise<{ caller: Caller; expected: Outcome; result: CellResult; verdict: Verdict }[]> {
  const order = [...CALLERS.filter((c) => row.expect[c] !== 'ok'), ...CALLERS.filter((c) => row.expect[c] === 'ok')];
  const cells: { caller: Caller; expected: Outcome; result: CellResult; verdict: Verdict }[] = [];
  for (const caller of order) {
    const expected = row.expect[caller];
    const result = await runCell(target, fx, row, caller);
    cells.push({ caller, expected, result, verdict: judge(fx, row, expected, result) });
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Fixtures over HTTP

async function seed(pipeline: Pipeline): Promise<Fixtures> {
  const { env } = pipeline;
  const { oidc } = env;
  const claims = oidc.accessTokenClaims('alice');
  const foreignTenant = randomUUID();
  const signed = async (role: string, tenant?: string) => {
    const sub = randomUUID();
    const token = await signTestToken({ ...claims, amr: ['pwd', 'otp'], sub, role, ...(tenant === undefined ? {} : { tenant_id: tenant }) }, { privateKey: oidc.signingKey });
    return { sub, token };
  };
  const [trainer, orgAdmin, auditor, researcher, platformAdmin, foreign, foreignTrainer, opener, minor, member, memberToRemove] = await Promise.all([
    signed('trainer'),
    signed('org_admin'),
    signed('auditor'),
    signed('researcher'),
    signed('platform_admin'),
    signed('client', foreignTenant),
    signed('trainer', foreignTenant),
    signed('org_admin'),
    signed('client'),
    signed('client'),
    signed('client'),
  ]);
  const people = {
    alice: { sub: oidc.users.alice.sub, token: env.tokens.alice },
    bob: { sub: oidc.users.bob.sub, token: env.tokens.bob },
    coach: { sub: oidc.users.coach.sub, token: env.tokens.coach },
    trainer,
    orgAdmin,
    auditor,
    researcher,
    platformAdmin,
    foreign,
    foreignTrainer,
  } satisfies Record<Caller, { sub: string; token: string }>;
  const alice = people.alice.token;

  async function send(token: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body: object): Promise<Record<string, string>> {
    const response = await env.inject(method, url, { token, body });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    const result = response.json<Record<string, string>>();
    if (result['position'] !== undefined) await pipeline.settle(result['position']);
    return result;
  }
  const id = async (token: string, method: 'POST' | 'PUT', url: string, body: object, field: string): Promise<string> => {
    const value = (await send(token, method, url, body))[field];
    if (value === undefined) throw new Error(`${url} answered no ${field}`);
    return value;
  };

  await send(alice, 'PUT', `${A}/profile`, { birthDate: PHI.birthDate });
  const workout = await id(alice, 'POST', `${A}/workouts`, { start: true, startedAt: '2026-05-04T07:00:00.000Z', title: PHI.workoutTitle }, 'workoutId');
  await send(alice, 'POST', `${A}/workouts/${workout}/sets`, { occurredAt: '2026-05-04T07:10:00.000Z', set: { exerciseId: SQUAT, reps: 5, load: { value: PHI.setLoadKg, unit: 'kg' } } });
  const setToChange = await id(alice, 'POST', `${A}/workouts/${workout}/sets`, { occurredAt: '2026-05-04T07:20:00.000Z', set: { exerciseId: SQUAT, reps: 8, load: { value: 60, unit: 'kg' } } }, 'setId');
  const plannedWorkout = await id(alice, 'POST', `${A}/workouts`, { title: PHI.workoutTitle, plannedFor: '2026-07-01T07:00:00.000Z' }, 'workoutId');
  const workoutToComplete = await id(alice, 'POST', `${A}/workouts`, { start: true, startedAt: '2026-05-05T07:00:00.000Z' }, 'workoutId');
  const workoutToCancel = await id(alice, 'POST', `${A}/workouts`, { start: true, startedAt: '2026-05-06T07:00:00.000Z' }, 'workoutId');
  // Completed today: alice (private profile) and bob (opted in to the organisation's leaderboard).
  for (const [token, visibility] of [[alice, undefined], [people.bob.token, 'organisation']] as const) {
    if (visibility !== undefined) await send(token, 'PUT', `${A}/profile`, { profileVisibility: visibility });
    const done = await id(token, 'POST', `${A}/workouts`, { start: true }, 'workoutId');
    await send(token, 'POST', `${A}/workouts/${done}/complete`, {});
  }
  const weighInOf = (kg: number) => ({ measurement: { metric: 'weight', weight: { value: kg, unit: 'kg' } }, measuredAt: '2026-05-04T06:30:00.000Z', note: PHI.measurementNote });
  const measurement = await id(alice, 'POST', `${A}/body-metrics`, weighInOf(PHI.weightKg), 'measurementId');
  const measurementToCorrect = await id(alice, 'POST', `${A}/body-metrics`, weighInOf(PHI.weightKg), 'measurementId');
  const measurementToDelete = await id(alice, 'POST', `${A}/body-metrics`, weighInOf(PHI.weightKg), 'measurementId');
  const exercise = await id(alice, 'POST', `${A}/exercises`, { ...exerciseDefinition, name: PHI.exerciseName }, 'exerciseId');
  const exerciseToArchive = await id(alice, 'POST', `${A}/exercises`, { ...exerciseDefinition, name: PHI.exerciseName }, 'exerciseId');
  const template = await id(alice, 'POST', `${A}/templates`, { name: PHI.templateName, plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: PHI.setLoadKg, unit: 'kg' } }] }, 'templateId');
  const templateToArchive = await id(alice, 'POST', `${A}/templates`, { name: PHI.templateName, plannedSets: [] }, 'templateId');
  const sharedTemplate = await id(alice, 'POST', `${A}/templates`, { name: SHARED_TEMPLATE_NAME, plannedSets: [], visibility: 'organisation' }, 'templateId');
  const planOf = { name: PHI.planName, timeZone: 'Europe/Berlin', startsOn: '2026-03-16', entries: [{ weekday: 1, time: '07:00', templateId: template }] };
  const plan = await id(alice, 'POST', `${A}/plans`, planOf, 'planId');
  const planToArchive = await id(alice, 'POST', `${A}/plans`, planOf, 'planId');
  const goalOf = { target: { kind: 'weight', weightKg: PHI.goalWeightKg, direction: 'at_most' }, startsOn: '2026-03-01', endsOn: '2027-03-01' };
  const goal = await id(alice, 'POST', `${A}/goals`, goalOf, 'goalId');
  const goalToCancel = await id(alice, 'POST', `${A}/goals`, goalOf, 'goalId');

  // The organisation the tokens act in (tenant = organisation id): the coach and the trainer are its
  // trainers, the org admin and the opener its admins; the foreign trainer is a trainer of his own.
  await env.enrol([
    { ...people.coach, role: 'trainer' },
    { ...trainer, role: 'trainer' },
    { ...orgAdmin, role: 'org_admin' },
    { ...opener, role: 'org_admin' },
  ]);
  await env.enrol([{ ...foreignTrainer, role: 'trainer' }], foreignTenant);

  // Coaching: the coach (relationship + consent for workouts and goals), the trainer (relationship only),
  // the foreign trainer (consent for everything, no relationship in alice's organisation).
  const invite = (trainerToken: string) => id(trainerToken, 'POST', `${A}/coaching/invitations`, { clientId: people.alice.sub }, 'relationshipId');
  const relationship = await invite(people.coach.token);
  await send(alice, 'POST', `${A}/coaching/${relationship}/accept`, {});
  const trainersRelationship = await invite(trainer.token);
  await send(alice, 'POST', `${A}/coaching/${trainersRelationship}/accept`, {});
  const invitation = await invite(people.coach.token);
  const relationshipAliceEnds = await invite(people.coach.token);
  const relationshipCoachEnds = await invite(people.coach.token);
  const coachConsent = await id(alice, 'POST', `${A}/consents`, { purpose: 'trainer_sharing', trainerId: people.coach.sub, scopes: ['workouts', 'goals'] }, 'consentId');
  await send(alice, 'POST', `${A}/consents`, { purpose: 'trainer_sharing', trainerId: foreignTrainer.sub, scopes: [...SHARING_SCOPES] });
  const consentToWithdraw = await id(alice, 'POST', `${A}/consents`, { purpose: 'research' }, 'consentId');
  // A minor's consent awaiting alice as guardian.
  await send(minor.token, 'PUT', `${A}/profile`, { birthDate: '2012-02-01' });
  const minorConsent = await id(minor.token, 'POST', `${A}/consents`, { purpose: 'trainer_sharing', trainerId: people.coach.sub, scopes: ['workouts'], guardianId: people.alice.sub }, 'consentId');

  // Break-glass on alice by another org admin (not a matrix caller): two grants, one per reviewer.
  const openGrant = (reason: string) => id(opener.token, 'POST', `${A}/emergency-access`, { subjectId: people.alice.sub, reason, minutes: 60 }, 'grantId');
  const grant = await openGrant(PHI.grantReason);
  const grantForPlatformAdmin = await openGrant(`${PHI.grantReason} (second call)`);

  // An organisation run by the matrix's org admin: two joined members, the coach invited.
  const organisation = await id(platformAdmin.token, 'POST', `${A}/organisations`, { name: ORGANISATION_NAME, kind: 'gym', firstAdminId: orgAdmin.sub }, 'organisationId');
  await send(orgAdmin.token, 'POST', `${A}/organisations/${organisation}/join`, {});
  for (const joiner of [member, memberToRemove]) {
    await send(orgAdmin.token, 'POST', `${A}/organisations/${organisation}/invitations`, { subjectId: joiner.sub, role: 'trainer' });
    await send(joiner.token, 'POST', `${A}/organisations/${organisation}/join`, {});
  }
  await send(orgAdmin.token, 'POST', `${A}/organisations/${organisation}/invitations`, { subjectId: people.coach.sub, role: 'trainer' });

  // The audit tree over everything so far, and a checkpoint signed and published outside the database.
  for (let more = true; more; ) more = (await projectAuditBatch({ pool: env.pool, events: env.store, batchSize: 100_000 })).more;
  const auditDir = await mkdtemp(join(tmpdir(), 'matrix-audit-'));
  const keyring = await openSigningKeyring({ name: 'matrix.fitledger.test/audit', signingKeyFile: join(auditDir, 'key.pem'), publicKeysFile: join(auditDir, 'keys.json'), createIfMissing: true });
  await publishCheckpoint({ pool: env.pool, keyring, sink: new DirectoryCheckpointSink(join(auditDir, 'checkpoints')) });
  return {
    sub: Object.fromEntries(CALLERS.map((c) => [c, people[c].sub])) as Record<Caller, string>,
    token: Object.fromEntries(CALLERS.map((c) => [c, people[c].token])) as Record<Caller, string>,
    phi: [people.alice.sub, 'Zephyrine', String(PHI.setLoadKg), String(PHI.weightKg), String(PHI.goalWeightKg), PHI.birthDate],
    workout,
    setToChange,
    plannedWorkout,
    workoutToComplete,
    workoutToCancel,
    measurement,
    measurementToCorrect,
    measurementToDelete,
    exercise,
    exerciseToArchive,
    template,
    templateToArchive,
    sharedTemplate,
    plan,
    planToArchive,
    goal,
    goalToCancel,
    coachConsent,
    consentToWithdraw,
    minor: minor.sub,
    minorConsent,
    relationship,
    invitation,
    relationshipAliceEnds,
    relationshipCoachEnds,
    grant,
    grantForPlatformAdmin,
    organisation,
    member: member.sub,
    memberToRemove: memberToRemove.sub,
    newcomer: randomUUID(),
  };
}

const describeCell = (row: Row, cell: { caller: Caller; verdict: Verdict }) => `${row.method} ${row.path} as ${cell.caller}: ${cell.verdict.mismatch ?? ''}`;
const rowName = (row: Row) => `${row.method} ${row.path} — ${row.rule}`;

// ---------------------------------------------------------------------------------------------

describe(`authorisation matrix: ${ROUTES} routes (${ROWS.length} rows) × ${CALLERS.length} callers = ${CELLS} cells`, () => {
  let pipeline: Pipeline;
  let fx: Fixtures;
  const tally = { cells: 0, unauthorised: [] as string[] };

  beforeAll(async () => {
    pipeline = await startPipeline('authorisation_matrix', defaultProjections(), { listen: true });
    fx = await seed(pipeline);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('has a row for every route of both OpenAPI documents, and no row for a route that does not exist', async () => {
    type Document = { paths: Record<string, Record<string, unknown>> };
    const command = await pipeline.env.inject('GET', '/openapi.json');
    const query = await pipeline.query.inject({ method: 'GET', url: '/openapi.json' });
    expect(command.statusCode).toBe(200);
    expect(query.statusCode).toBe(200);
    const operations = [command.json<Document>(), query.json<Document>()].flatMap((doc) =>
      Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const documented = new Set(operations.filter((op) => !excluded(op.slice(op.indexOf(' ') + 1))));
    const matrix = new Set(ROWS.map((r) => `${r.method} ${r.path}`));
    expect([...documented].filter((op) => !matrix.has(op)), 'routes without a matrix row').toEqual([]);
    expect([...matrix].filter((op) => !documented.has(op)), 'matrix rows of no documented route').toEqual([]);
    // The feeds are documented and left to the handshake test.
    for (const feed of FEEDS) expect(operations).toContain(`GET ${feed}`);
    expect(documented.size).toBe(ROUTES);
  });

  it('gives every row a positive control: a rightful caller who gets 2xx on the same resource', () => {
    for (const row of ROWS) expect(CALLERS.filter((c) => row.expect[c] === 'ok'), rowName(row)).not.toEqual([]);
  });

  for (const row of ROWS) {
    it(rowName(row), async () => {
      const cells = await runRow({ query: pipeline.query, pipeline }, fx, row);
      tally.cells += cells.length;
      tally.unauthorised.push(...cells.filter((c) => c.verdict.unauthorised).map((c) => describeCell(row, c)));
      expect(cells.filter((c) => c.verdict.mismatch !== undefined).map((c) => describeCell(row, c))).toEqual([]);
    });
  }

  it(`${DENIED} denied cells and ${OWN} own-data-only cells, each row with positive controls (${RIGHTFUL} rightful cells): 0 unauthorised reads or writes`, () => {
    expect(DENIED + OWN + RIGHTFUL).toBe(CELLS);
    expect(tally.cells).toBe(CELLS);
    expect(tally.unauthorised).toEqual([]);
  });

  it('feeds: one’s own opens; another subject’s client feed is refused 403 without consent, opened with it', async () => {
    const clientFeed = pipeline.feedUrl.replace(/\/feed$/, `/clients/${fx.sub.alice}/feed`);
    const own = await openFeed(pipeline.feedUrl, { token: fx.token.alice });
    await own.close();
    for (const caller of ['bob', 'trainer', 'foreignTrainer', 'orgAdmin'] as const) {
      const refused = await openFeed(clientFeed, { token: fx.token[caller] }).then(
        async (feed) => {
          await feed.close();
          return undefined;
        },
        (error: unknown) => error,
      );
      expect(refused, caller).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status, caller).toBe(403);
      expect((refused as HandshakeRefused).body, caller).not.toContain('Zephyrine');
    }
    // Positive controls on the same URL: the owner, and the coach with her consent.
    for (const caller of ['alice', 'coach'] as const) {
      const feed = await openFeed(clientFeed, { token: fx.token[caller] });
      await feed.close();
    }
  });
});

/** A consent reader that says every trainer of the matrix holds a consent in force for every scope: the consent check removed (memberships as they are). */
function consentToEveryTrainer(trainers: readonly string[], real: ConsentReader): ConsentReader {
  const events: ConsentEvent[] = trainers.map((trainerId) => ({ type: 'ConsentGiven', data: { consentId: randomUUID(), purpose: 'trainer_sharing', trainerId, scopes: [...SHARING_SCOPES] } }));
  const state = foldEvents(consentDecider, events);
  return { current: () => Promise.resolve(state), emergency: () => Promise.resolve(initialEmergencyAccessState()), membership: (organisationId, sub) => real.membership(organisationId, sub) };
}

describe('the matrix detects a removed policy check', () => {
  let pipeline: Pipeline;
  let fx: Fixtures;
  let weakened: FastifyInstance;
  const clientRows = ROWS.filter((r) => r.path.startsWith(`${A}/clients/{clientId}/`));

  beforeAll(async () => {
    pipeline = await startPipeline('authorisation_matrix_weakened', defaultProjections());
    fx = await seed(pipeline);
    const { oidc, pool } = pipeline.env;
    // The query app as pipeline.ts wires it, but with the consent check gone.
    weakened = buildQueryApp({
      db: pool,
      verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }),
      changeSource: inProcessChangeSource(),
      consents: consentToEveryTrainer([fx.sub.coach, fx.sub.trainer, fx.sub.foreignTrainer], eventStoreConsentReader({ store: pipeline.env.store, codec: pipeline.env.codec })),
    });
    await weakened.ready();
  });
  afterAll(async () => {
    await weakened?.close();
    await pipeline?.close();
  });

  it('with every trainer "consented", the /clients rows turn red where only the consent refused (trainer with a relationship; coach outside his scopes)', async () => {
    const red: string[] = [];
    for (const row of clientRows) {
      const intact = await runRow({ query: pipeline.query, pipeline }, fx, row);
      expect(intact.filter((c) => c.verdict.mismatch !== undefined).map((c) => describeCell(row, c)), 'the real policy is green').toEqual([]);
      const cells = await runRow({ query: weakened, pipeline }, fx, row);
      red.push(...cells.filter((c) => c.verdict.unauthorised).map((c) => `${row.method} ${row.path} as ${c.caller}`));
    }
    // The trainer with a relationship but no consent now reads alice's workouts; the coach her body metrics.
    expect(red).toContain(`GET ${A}/clients/{clientId}/workouts as trainer`);
    expect(red).toContain(`GET ${A}/clients/{clientId}/body-metrics as coach`);
    // The checks that were left in place still hold: no relationship (another organisation), or a role that reads by no consent.
    expect(red.filter((cell) => /as (foreignTrainer|foreign|bob|orgAdmin|auditor|researcher|platformAdmin)$/.test(cell))).toEqual([]);
  });
});
