import { describe, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { CommandMetadata } from '../events/envelope';
import type { TemplateCommand } from './commands';
import type { TemplateEvent } from './events';
import { templateDecider } from './template';

const T = '0190f3b0-1111-7222-8333-444455556666';
const SQUAT = '0189c0de-1111-7222-8333-444455556666';
const NOW = new Date('2025-03-03T08:00:00.000Z');
const meta: CommandMetadata = { now: NOW, actor: { sub: 'u-1', role: 'client' }, tenantId: 't-1', subjectId: 's-1', commandId: 'c-1', correlationId: 'r-1' };
const cmd = <C extends TemplateCommand>(type: C['type'], data: C['data']): C => ({ type, data, metadata: meta }) as C;
const spec = deciderSpecification(templateDecider);
const squat = { exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' as const } };
const squatStored = { exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' as const }, loadKg: 102.05828325, warmUp: false, toFailure: false };
const created: TemplateEvent = { type: 'TemplateCreated', data: { templateId: T, version: 1, name: 'Lower A', plannedSets: [squatStored], visibility: 'private' } };

describe('workout templates', () => {
  it('creates version 1 with planned sets in entered and canonical units, private unless shared', () => {
    spec.given([]).when(cmd('CreateTemplate', { templateId: T, definition: { name: 'Lower A', plannedSets: [squat] } })).then([created]);
  });

  it('each revision is the next version; a revision that changes nothing records nothing', () => {
    spec
      .given([created])
      .when(cmd('ReviseTemplate', { templateId: T, definition: { name: 'Lower A', plannedSets: [squat, squat], visibility: 'organisation' } }))
      .then([{ type: 'TemplateRevised', data: { templateId: T, version: 2, name: 'Lower A', plannedSets: [squatStored, squatStored], visibility: 'organisation' } }]);
    const v2: TemplateEvent = { type: 'TemplateRevised', data: { templateId: T, version: 2, name: 'Lower B', plannedSets: [], visibility: 'private' } };
    spec.given([created, v2]).when(cmd('ReviseTemplate', { templateId: T, definition: { name: 'Lower C' } })).then([
      { type: 'TemplateRevised', data: { templateId: T, version: 3, name: 'Lower C', plannedSets: [], visibility: 'private' } },
    ]);
    spec.given([created]).when(cmd('ReviseTemplate', { templateId: T, definition: { name: 'Lower A', plannedSets: [squat] } })).thenNothingHappens();
  });

  it('validates names and sets, naming the field', () => {
    spec.given([]).when(cmd('CreateTemplate', { templateId: T, definition: { name: '' } })).thenThrows('VALIDATION_FAILED', 'name');
    spec.given([]).when(cmd('CreateTemplate', { templateId: T, definition: { name: 'A', plannedSets: [{ ...squat, reps: 0 }] } })).thenThrows('VALIDATION_FAILED', 'plannedSets[0].reps');
    spec.given([]).when(cmd('CreateTemplate', { templateId: T, definition: { name: 'A', plannedSets: [{ ...squat, load: { value: 2300, unit: 'lb' } }] } })).thenThrows('VALIDATION_FAILED', 'plannedSets[0].loadKg');
  });

  it('recognises a retried create, refuses a different one under the same id, and refuses changes to an archived template', () => {
    spec.given([created]).when(cmd('CreateTemplate', { templateId: T, definition: { name: 'Lower A', plannedSets: [squat] } })).thenNothingHappens();
    spec.given([created]).when(cmd('CreateTemplate', { templateId: T, definition: { name: 'Other' } })).thenThrows('TEMPLATE_ALREADY_EXISTS', 'templateId');
    const archived: TemplateEvent = { type: 'TemplateArchived', data: { templateId: T } };
    spec.given([created]).when(cmd('ArchiveTemplate', { templateId: T })).then([archived]);
    spec.given([created, archived]).when(cmd('ArchiveTemplate', { templateId: T })).thenNothingHappens();
    spec.given([created, archived]).when(cmd('ReviseTemplate', { templateId: T, definition: { name: 'x' } })).thenThrows('TEMPLATE_ARCHIVED', 'templateId');
    spec.given([]).when(cmd('ReviseTemplate', { templateId: T, definition: { name: 'x' } })).thenThrows('TEMPLATE_NOT_FOUND', 'templateId');
  });
});
