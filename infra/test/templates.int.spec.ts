import { plansProjection, templatesProjection, type ProjectionRunner } from '@fitledger/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

interface Template {
  templateId: string;
  name: string;
  version: number;
  visibility: string;
  useCount: number;
  archived: boolean;
  mine: boolean;
  plannedSets: { exerciseId: string; reps: number; loadKg: number }[];
  versions?: { version: number; name: string }[];
}

// Templates from the command API through the projection to the query API; planning from them.
describe('workout templates: versions, sharing within the organisation, planning from them, use counts', () => {
  let pipeline: Pipeline;
  let env: CommandServiceTestEnv;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    pipeline = await startPipeline('templates_pipeline', [templatesProjection(), plansProjection()]);
    ({ env, runner } = pipeline);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const get = (url: string, token = env.tokens.alice) => pipeline.get(url, token);
  async function send(method: 'POST' | 'PUT' | 'DELETE', url: string, body: object, token = env.tokens.alice, status = 200) {
    const response = await env.inject(method, url, { token, body });
    expect(response.statusCode, response.body).toBe(status);
    const result = response.json<{ position: string; templateId: string; workoutId?: string; templateVersion?: number }>();
    await pipeline.settle(result.position);
    return result;
  }

  it('revises into versions, plans workouts from the current version, counts uses, and shares only when asked', async () => {
    const { templateId } = await send('POST', '/api/v1/templates', { name: 'Lower A', plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' } }] }, env.tokens.alice, 201);
    // Private: bob can neither see nor use it.
    expect((await get(`/api/v1/templates/${templateId}`, env.tokens.bob)).statusCode).toBe(404);
    expect((await env.inject('POST', `/api/v1/templates/${templateId}/instantiate`, { token: env.tokens.bob, body: { plannedFor: '2026-03-10T07:00:00.000Z' } })).statusCode).toBe(404);

    const planned = await send('POST', `/api/v1/templates/${templateId}/instantiate`, { plannedFor: '2026-03-10T07:00:00.000Z' }, env.tokens.alice, 201);
    expect(planned.templateVersion).toBe(1);
    const [event] = await env.readWorkout(planned.workoutId as string);
    expect(event?.type).toBe('WorkoutPlanned');
    expect(event?.data).toMatchObject({ title: 'Lower A', templateId, templateVersion: 1, plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' } }] });

    await send('PUT', `/api/v1/templates/${templateId}`, { name: 'Lower A', plannedSets: [{ exerciseId: SQUAT, reps: 3, load: { value: 110, unit: 'kg' } }], visibility: 'organisation' });
    // Shared now: bob (same organisation) sees it and plans from version 2, but cannot change it.
    const asBob = (await get(`/api/v1/templates/${templateId}`, env.tokens.bob)).json<Template>();
    expect(asBob).toMatchObject({ version: 2, visibility: 'organisation', mine: false });
    const bobs = await send('POST', `/api/v1/templates/${templateId}/instantiate`, { plannedFor: '2026-03-11T07:00:00.000Z', title: 'Bob lower' }, env.tokens.bob, 201);
    expect(bobs.templateVersion).toBe(2);
    expect((await env.inject('PUT', `/api/v1/templates/${templateId}`, { token: env.tokens.bob, body: { name: 'Mine now' } })).statusCode).toBe(404);

    const detail = (await get(`/api/v1/templates/${templateId}`)).json<Template>();
    expect(detail).toMatchObject({ name: 'Lower A', version: 2, useCount: 2, mine: true, archived: false });
    expect(detail.plannedSets).toEqual([expect.objectContaining({ exerciseId: SQUAT, reps: 3, loadKg: 110 })]);
    expect(detail.versions?.map((v) => v.version)).toEqual([1, 2]);
    expect((await get('/api/v1/templates', env.tokens.bob)).json<{ items: Template[] }>().items.map((t) => t.templateId)).toContain(templateId);

    // Archived: gone from the list, and no more workouts are planned from it.
    await send('DELETE', `/api/v1/templates/${templateId}`, {});
    expect((await get('/api/v1/templates')).json<{ items: Template[] }>().items.map((t) => t.templateId)).not.toContain(templateId);
    expect((await get('/api/v1/templates?archived=true')).json<{ items: Template[] }>().items.map((t) => t.templateId)).toContain(templateId);
    const refused = await env.inject('POST', `/api/v1/templates/${templateId}/instantiate`, { token: env.tokens.alice, body: { plannedFor: '2026-03-12T07:00:00.000Z' } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'TEMPLATE_ARCHIVED' });
  });

  it('recounts uses and versions in a rebuild', async () => {
    const before = (await get('/api/v1/templates?archived=true')).json<{ items: Template[] }>().items;
    await runner.rebuild('templates');
    expect((await get('/api/v1/templates?archived=true')).json<{ items: Template[] }>().items).toEqual(before);
  });

  it('schedules a weekly plan at its wall-clock times across the spring-forward switch, with template names; plans are private', async () => {
    const { templateId } = await send('POST', '/api/v1/templates', { name: 'Upper B', plannedSets: [] }, env.tokens.alice, 201);
    const bobsPrivate = await send('POST', '/api/v1/templates', { name: 'Bob only', plannedSets: [] }, env.tokens.bob, 201);
    const refused = await env.inject('POST', '/api/v1/plans', {
      token: env.tokens.alice,
      body: { name: 'Split', timeZone: 'Europe/Berlin', startsOn: '2026-03-16', entries: [{ weekday: 1, time: '07:00', templateId: bobsPrivate.templateId }] },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/entries/0/templateId']);

    const { planId } = (await send(
      'POST',
      '/api/v1/plans',
      { name: 'Split', timeZone: 'Europe/Berlin', startsOn: '2026-03-16', entries: [{ weekday: 1, time: '07:00', templateId }, { weekday: 4, time: '18:30', templateId }] },
      env.tokens.alice,
      201,
    )) as unknown as { planId: string };
    const schedule = await get(`/api/v1/plans/${planId}/schedule?from=2026-03-23&to=2026-04-02`);
    expect(schedule.statusCode, schedule.body).toBe(200);
    expect(schedule.json()).toEqual({
      timeZone: 'Europe/Berlin',
      assignedBy: null,
      sessions: [
        { date: '2026-03-23', weekday: 1, time: '07:00', at: '2026-03-23T06:00:00.000Z', templateId, templateName: 'Upper B' },
        { date: '2026-03-26', weekday: 4, time: '18:30', at: '2026-03-26T17:30:00.000Z', templateId, templateName: 'Upper B' },
        // After the switch on 29 March: the same wall-clock times, an hour earlier in UTC.
        { date: '2026-03-30', weekday: 1, time: '07:00', at: '2026-03-30T05:00:00.000Z', templateId, templateName: 'Upper B' },
        { date: '2026-04-02', weekday: 4, time: '18:30', at: '2026-04-02T16:30:00.000Z', templateId, templateName: 'Upper B' },
      ],
    });
    expect((await get(`/api/v1/plans/${planId}`, env.tokens.bob)).statusCode).toBe(404);
    expect((await get(`/api/v1/plans/${planId}/schedule?from=2026-03-23&to=2026-04-02`, env.tokens.bob)).statusCode).toBe(404);
    expect((await get(`/api/v1/plans/${planId}/schedule?from=2026-01-01&to=2027-06-01`)).statusCode).toBe(400);
    expect((await get(`/api/v1/plans/${planId}/schedule?from=2026-02-30&to=2026-03-01`)).statusCode).toBe(400);
    expect((await get('/api/v1/plans')).json<{ items: { planId: string }[] }>().items.map((p) => p.planId)).toEqual([planId]);
  });
});
