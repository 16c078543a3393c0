import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { CommandMetadata } from '../events/envelope';
import { eventRegistry } from '../events/registry';
import type { ExerciseCommand, ExerciseDefinitionInput } from './commands';
import type { ExerciseEvent } from './events';
import { decideExercise, evolveExercise, exerciseDecider, exerciseStreamId, initialExerciseState } from './exercise';
import { EXERCISE_LIMITS as L } from './exerciseEventTypes';
import { EQUIPMENT, EXERCISE_CATEGORIES, EXERCISE_LEVELS, MUSCLES } from './vocabulary';

const X = '0190f6c1-2d3e-7f40-8a51-6b7c8d9e0f12';
const OTHER = '0190f6c1-2d3e-7f40-8a51-000000000002';
const NOW = new Date('2025-03-03T08:00:00.000Z');
const metadata: CommandMetadata = { now: NOW, actor: { sub: 'u-1', role: 'client' }, tenantId: 't-1', subjectId: 'u-1', commandId: 'c-1', correlationId: 'r-1' };
const cmd = <C extends ExerciseCommand>(type: C['type'], data: C['data']): C => ({ type, data, metadata }) as C;

const input: ExerciseDefinitionInput = { name: '  Landmine Press ', category: 'strength', level: 'intermediate', primaryMuscles: ['shoulders'], equipment: 'barbell' };
const stored = {
  visibility: 'private',
  name: 'Landmine Press',
  category: 'strength',
  level: 'intermediate',
  primaryMuscles: ['shoulders'],
  secondaryMuscles: [],
  equipment: 'barbell',
  instructions: [],
  mediaLinks: [],
} as const;
const created: ExerciseEvent = { type: 'ExerciseCreated', data: { exerciseId: X, ...stored } };
const archived: ExerciseEvent = { type: 'ExerciseArchived', data: { exerciseId: X } };

const spec = deciderSpecification(exerciseDecider);
const create = (definition: ExerciseDefinitionInput = input) => cmd('CreateExercise', { exerciseId: X, definition });
const revise = (definition: ExerciseDefinitionInput) => cmd('ReviseExercise', { exerciseId: X, definition });

describe('exercise decider', () => {
  it('creates a private exercise with defaults filled in and the name trimmed', () => {
    spec.given([]).when(create()).then([created]);
    expect(exerciseStreamId(X)).toBe(`exercise-${X}`);
  });

  it('keeps organisation visibility, optional fields and lists as given', () => {
    const definition = { ...input, visibility: 'organisation', secondaryMuscles: ['triceps'], mechanic: 'compound', force: 'push', instructions: ['Press.'], mediaLinks: ['https://example.org/a.mp4'] } as const;
    spec.given([]).when(create(definition)).then([{ type: 'ExerciseCreated', data: { exerciseId: X, ...definition, name: 'Landmine Press' } }]);
  });

  it('treats a retried create with the same definition as done, and another definition under the same id as a conflict', () => {
    spec.given([created]).when(create()).thenNothingHappens();
    spec.given([created]).when(create({ ...input, level: 'expert' })).thenThrows('EXERCISE_ALREADY_EXISTS', 'exerciseId');
    spec.given([created, archived]).when(create()).thenThrows('EXERCISE_ALREADY_EXISTS', 'exerciseId');
  });

  it('revises with a full replacement, and a revision that changes nothing records nothing', () => {
    spec.given([created]).when(revise({ ...input, level: 'expert', visibility: 'organisation' })).then([
      { type: 'ExerciseRevised', data: { exerciseId: X, ...stored, level: 'expert', visibility: 'organisation' } },
    ]);
    spec.given([created]).when(revise(input)).thenNothingHappens();
  });

  it('refuses to revise a missing or archived exercise', () => {
    spec.given([]).when(revise(input)).thenThrows('EXERCISE_NOT_FOUND', 'exerciseId');
    spec.given([created, archived]).when(revise({ ...input, level: 'expert' })).thenThrows('EXERCISE_ARCHIVED');
  });

  it('archives once; archiving again records nothing; a missing exercise is not found', () => {
    spec.given([created]).when(cmd('ArchiveExercise', { exerciseId: X, reason: 'duplicate' })).then([{ type: 'ExerciseArchived', data: { exerciseId: X, reason: 'duplicate' } }]);
    spec.given([created, archived]).when(cmd('ArchiveExercise', { exerciseId: X })).thenNothingHappens();
    spec.given([]).when(cmd('ArchiveExercise', { exerciseId: X })).thenThrows('EXERCISE_NOT_FOUND', 'exerciseId');
  });

  it('refuses a command for another exercise than the stream holds', () => {
    spec.given([created]).when(cmd('ArchiveExercise', { exerciseId: OTHER })).thenThrows('EXERCISE_ID_MISMATCH', 'exerciseId');
  });

  it.each([
    ['name', { ...input, name: '   ' }],
    ['name', { ...input, name: 'x'.repeat(L.nameMaxChars + 1) }],
    ['name', { ...input, name: 'bad\u0000name' }],
    ['category', { ...input, category: 'yoga' }],
    ['level', { ...input, level: 'elite' }],
    ['equipment', { ...input, equipment: 'sandbag' }],
    ['primaryMuscles', { ...input, primaryMuscles: [] }],
    ['primaryMuscles[0]', { ...input, primaryMuscles: ['biceps femoris'] }],
    ['primaryMuscles', { ...input, primaryMuscles: ['chest', 'chest'] }],
    ['secondaryMuscles[0]', { ...input, secondaryMuscles: ['shoulders'] }],
    ['instructions', { ...input, instructions: Array.from({ length: L.instructionsMax + 1 }, () => 'step') }],
    ['instructions[0]', { ...input, instructions: ['x'.repeat(L.instructionMaxChars + 1)] }],
    ['mediaLinks', { ...input, mediaLinks: Array.from({ length: L.mediaLinksMax + 1 }, (_, i) => `https://example.org/${i}.jpg`) }],
    ['mediaLinks[0]', { ...input, mediaLinks: ['http://example.org/a.jpg'] }],
    ['mediaLinks[0]', { ...input, mediaLinks: ['javascript:alert(1)'] }],
    ['mediaLinks[0]', { ...input, mediaLinks: ['https://user:pw@example.org/a.jpg'] }],
    ['mediaLinks[0]', { ...input, mediaLinks: ['https://example.org/a b.jpg'] }],
    ['visibility', { ...input, visibility: 'public' }],
  ] as const)('refuses an invalid %s, naming the field', (field, definition) => {
    spec
      .given([])
      .when(create(definition as unknown as ExerciseDefinitionInput))
      .thenThrows('VALIDATION_FAILED', field);
  });

  it('accepts the limits exactly (20 instructions of 2000 characters, 10 links, a 120-character name)', () => {
    const definition = {
      ...input,
      name: 'x'.repeat(L.nameMaxChars),
      instructions: Array.from({ length: L.instructionsMax }, () => 'y'.repeat(L.instructionMaxChars)),
      mediaLinks: Array.from({ length: L.mediaLinksMax }, (_, i) => `https://cdn.example.org:8443/ex/${i}.webp?w=640#t=1`),
    };
    expect(decideExercise(create(definition), initialExerciseState())).toHaveLength(1);
  });

  it('every event it emits is valid registry data and folds back to the definition (property)', () => {
    const definitions = fc.record({
      name: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /\S/.test(s) && !/\p{Cc}/u.test(s)),
      category: fc.constantFrom(...EXERCISE_CATEGORIES),
      level: fc.constantFrom(...EXERCISE_LEVELS),
      primaryMuscles: fc.uniqueArray(fc.constantFrom(...MUSCLES), { minLength: 1, maxLength: 3 }),
      equipment: fc.option(fc.constantFrom(...EQUIPMENT), { nil: undefined }),
      visibility: fc.constantFrom('private', 'organisation'),
    });
    fc.assert(
      fc.property(definitions, definitions, (first, second) => {
        const a = decideExercise(create(first), initialExerciseState());
        const afterA = a.reduce(evolveExercise, initialExerciseState());
        const b = decideExercise(revise(second), afterA);
        for (const event of [...a, ...b]) expect(eventRegistry.validate(event.type, JSON.parse(JSON.stringify(event.data)))).toMatchObject({ ok: true });
        const state = b.reduce(evolveExercise, afterA);
        expect(state.status).toBe('active');
        expect(state.definition?.name).toBe(second.name.trim());
      }),
      { numRuns: 200 },
    );
  });
});
