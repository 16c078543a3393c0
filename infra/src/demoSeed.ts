/**
 * Demo data for `npm start`: a few weeks of realistic strength training for alice, written through
 * the public command API with alice's real token — the same path a client app takes.
 */

/** Stable demo exercise ids (the exercise library arrives with the training-domain issue). */
export const DEMO_EXERCISES = {
  backSquat: { id: '0190f5a2-0001-7000-8000-000000000001', name: 'Barbell Back Squat', startKg: 80, stepKg: 2.5, reps: 5 },
  benchPress: { id: '0190f5a2-0001-7000-8000-000000000002', name: 'Barbell Bench Press', startKg: 60, stepKg: 1.25, reps: 5 },
  deadlift: { id: '0190f5a2-0001-7000-8000-000000000003', name: 'Barbell Deadlift', startKg: 100, stepKg: 5, reps: 3 },
  overheadPress: { id: '0190f5a2-0001-7000-8000-000000000004', name: 'Overhead Press', startKg: 40, stepKg: 1.25, reps: 5 },
  barbellRow: { id: '0190f5a2-0001-7000-8000-000000000005', name: 'Barbell Row', startKg: 50, stepKg: 2.5, reps: 8 },
} as const;

type ExerciseKey = keyof typeof DEMO_EXERCISES;
const SESSIONS: readonly (readonly ExerciseKey[])[] = [
  ['backSquat', 'benchPress', 'barbellRow'],
  ['deadlift', 'overheadPress', 'barbellRow'],
  ['backSquat', 'benchPress', 'overheadPress'],
];

interface Api {
  post(path: string, body: unknown): Promise<{ workoutId?: string; templateId?: string }>;
  put(path: string, body: unknown): Promise<unknown>;
}

function api(commandUrl: string, token: string): Api {
  const send = async (method: string, path: string, body: unknown): Promise<{ workoutId?: string; templateId?: string }> => {
    const res = await fetch(`${commandUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    // The problem body names fields, never values: safe to show.
    if (!res.ok) throw new Error(`seeding ${method} ${path} failed: ${res.status} ${text}`);
    return JSON.parse(text) as { workoutId?: string; templateId?: string };
  };
  return { post: (path, body) => send('POST', path, body), put: (path, body) => send('PUT', path, body) };
}

/**
 * The rest of alice's demo: a profile (Berlin, German week), a weekly weigh-in and resting heart
 * rate, a shared template with a Mon/Wed/Fri plan, and a bench-press goal. Returns what it wrote.
 */
export async function seedDemoExtras(commandUrl: string, token: string, now = new Date(), weeks = 4): Promise<{ measurements: number; templates: number; plans: number; goals: number }> {
  const client = api(commandUrl, token);
  const day = 86_400_000;
  await client.put('/profile', { timeZone: 'Europe/Berlin', locale: 'de-DE', height: { value: 172, unit: 'cm' }, weight: { value: 71.5, unit: 'kg' } });
  let measurements = 0;
  for (let d = weeks * 7; d >= 1; d -= 3) {
    const measuredAt = new Date(now.getTime() - d * day).toISOString();
    await client.post('/body-metrics', { measurement: { metric: 'weight', weight: { value: Math.round((72.4 - (weeks * 7 - d) * 0.04) * 10) / 10, unit: 'kg' } }, measuredAt });
    await client.post('/body-metrics', { measurement: { metric: 'resting_heart_rate', heartRateBpm: 58 - Math.floor((weeks * 7 - d) / 10) }, measuredAt });
    measurements += 2;
  }
  const a = DEMO_EXERCISES;
  const { templateId } = await client.post('/templates', {
    name: 'Strength A',
    visibility: 'organisation',
    plannedSets: [a.backSquat, a.benchPress, a.barbellRow].flatMap((ex) => [1, 2, 3].map(() => ({ exerciseId: ex.id, reps: ex.reps, load: { value: ex.startKg + weeks * ex.stepKg * 2, unit: 'kg' } }))),
  });
  const today = new Date(now.getTime()).toISOString().slice(0, 10);
  await client.post('/plans', {
    name: 'Three days a week',
    timeZone: 'Europe/Berlin',
    startsOn: today,
    entries: [1, 3, 5].map((weekday) => ({ weekday, time: '07:00', templateId })),
  });
  const inEightWeeks = new Date(now.getTime() + 56 * day).toISOString().slice(0, 10);
  await client.post('/goals', { target: { kind: 'reps_at_load', exerciseId: a.benchPress.id, reps: 5, loadKg: 70 }, startsOn: today, endsOn: inEightWeeks });
  await client.post('/goals', { target: { kind: 'workouts_per_week', perWeek: 3 }, startsOn: today, endsOn: inEightWeeks });
  return { measurements, templates: 1, plans: 1, goals: 2 };
}

/** Writes `weeks` weeks of Mon/Wed/Fri sessions ending before `now`; returns the number of workouts. */
export async function seedDemoWorkouts(commandUrl: string, token: string, now = new Date(), weeks = 4): Promise<number> {
  const client = api(commandUrl, token);
  const day = 86_400_000;
  const firstMonday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - ((now.getUTCDay() + 6) % 7) * day - weeks * 7 * day);
  let count = 0;
  for (let week = 0; week < weeks; week++) {
    for (const [slot, offsetDays] of [0, 2, 4].entries()) {
      const startedAt = new Date(firstMonday.getTime() + (week * 7 + offsetDays) * day + 7 * 3_600_000);
      if (startedAt.getTime() > now.getTime() - 3_600_000) continue;
      const session = SESSIONS[slot] as readonly ExerciseKey[];
      const { workoutId } = await client.post('/workouts', { start: true, title: `Strength ${String.fromCharCode(65 + slot)} — week ${week + 1}`, startedAt: startedAt.toISOString() });
      let minute = 5;
      for (const key of session) {
        const ex = DEMO_EXERCISES[key];
        const workKg = ex.startKg + week * ex.stepKg * (slot === 2 ? 1 : 2);
        const warmUps = [0.5, 0.75].map((f) => Math.round((workKg * f) / 2.5) * 2.5);
        for (const kg of warmUps) {
          await client.post(`/workouts/${workoutId}/sets`, {
            set: { exerciseId: ex.id, reps: ex.reps, load: { value: kg, unit: 'kg' }, warmUp: true },
            occurredAt: new Date(startedAt.getTime() + minute++ * 60_000).toISOString(),
          });
        }
        for (let s = 0; s < 3; s++) {
          const reps = s === 2 && week % 2 === 1 ? ex.reps + 1 : ex.reps;
          await client.post(`/workouts/${workoutId}/sets`, {
            set: { exerciseId: ex.id, reps, load: { value: workKg, unit: 'kg' }, rpe: 7 + s * 0.5, restBeforeS: 180 },
            occurredAt: new Date(startedAt.getTime() + (minute += 3) * 60_000).toISOString(),
          });
        }
      }
      await client.post(`/workouts/${workoutId}/complete`, { completedAt: new Date(startedAt.getTime() + (minute + 5) * 60_000).toISOString(), perceivedExertion: 7 });
      count++;
    }
  }
  return count;
}

/** The demo users' organisation: their tokens act in tenant DEMO_TENANT_ID, which is its id. */
export const DEMO_ORGANISATION = { name: 'FitLedger Demo Gym', kind: 'gym' } as const;

/**
 * The demo gym and its memberships, as a platform admin and the gym's admin would set them up
 * over the API: org-admin runs it, coach trains there (coach-nomfa stays out: his
 * token is refused for lack of MFA), alice and bob are clients,
 * auditor and researcher hold their roles there. Every step is idempotent, so it runs on every
 * start (an older demo database gets the organisation too).
 */
export async function seedDemoOrganisation(commandUrl: string, organisationId: string, tokenOf: (username: string) => Promise<{ sub: string; token: string }>): Promise<void> {
  const platformAdmin = await tokenOf('platform-admin');
  const admin = await tokenOf('org-admin');
  await api(commandUrl, platformAdmin.token).post('/organisations', { organisationId, ...DEMO_ORGANISATION, firstAdminId: admin.sub });
  const org = `/organisations/${organisationId}`;
  await api(commandUrl, admin.token).post(`${org}/join`, {});
  const members = [
    ['coach', 'trainer'],
    ['alice', 'client'],
    ['bob', 'client'],
    ['auditor', 'auditor'],
    ['researcher', 'researcher'],
  ] as const;
  for (const [username, role] of members) {
    const member = await tokenOf(username);
    await api(commandUrl, admin.token).post(`${org}/invitations`, { subjectId: member.sub, role });
    await api(commandUrl, member.token).post(`${org}/join`, {});
  }
}

/** alice coached by coach: invited, accepted, and her consent to share workouts and goals with him. */
export async function seedDemoCoaching(commandUrl: string, alice: { sub: string; token: string }, coach: { sub: string; token: string }): Promise<void> {
  const { relationshipId } = (await api(commandUrl, coach.token).post('/coaching/invitations', { clientId: alice.sub })) as { relationshipId?: string };
  await api(commandUrl, alice.token).post(`/coaching/${relationshipId ?? ''}/accept`, {});
  await api(commandUrl, alice.token).post('/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts', 'goals'] });
}
