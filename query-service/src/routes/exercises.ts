import { createHash } from 'node:crypto';
import { EQUIPMENT, EXERCISE_CATEGORIES, EXERCISE_LEVELS, MUSCLES } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { decodeExerciseSearchCursor, encodeExerciseSearchCursor, InvalidCursorError, type ExerciseSearchCursor } from '../cursor';
import { findExercise, queryWords, searchExercises, suggestExercises } from '../exercises/exerciseLibrary';
import { exerciseDetail, exerciseSummary, suggestionOf } from '../exercises/exerciseRepresentation';
import type { ReadScopeResolver } from '../readScope';
import type { ReadModelPool } from '../rowLevelSecurity';
import { authProblemResponses, pageResponse, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

export const DEFAULT_EXERCISE_PAGE_SIZE = 20;
export const MAX_EXERCISE_PAGE_SIZE = 50;
export const DEFAULT_SUGGESTIONS = 8;
export const MAX_SUGGESTIONS = 10;
export const MAX_QUERY_CHARS = 100;
export const MAX_PREFIX_CHARS = 60;

interface SearchQuery {
  q?: string;
  muscle?: string[];
  equipment?: string[];
  level?: string[];
  category?: string[];
  limit: number;
  cursor?: string;
}

const enumList = (values: readonly string[], description: string) =>
  ({ type: 'array', items: { type: 'string', enum: [...values] }, maxItems: values.length, description: `${description} Repeat the parameter for several (any of them).` }) as const;

const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', minLength: 1, maxLength: MAX_QUERY_CHARS, description: 'Words to look for, typos welcome ("bech pres"). Without q: every visible exercise by name.' },
    muscle: enumList(MUSCLES, 'Primary muscle.'),
    equipment: enumList(EQUIPMENT, 'Equipment.'),
    level: enumList(EXERCISE_LEVELS, 'Level.'),
    category: enumList(EXERCISE_CATEGORIES, 'Category.'),
    limit: { type: 'integer', minimum: 1, maximum: MAX_EXERCISE_PAGE_SIZE, default: DEFAULT_EXERCISE_PAGE_SIZE },
    cursor: { type: 'string', minLength: 1, maxLength: 1024, description: '`nextCursor` of the previous page of the same search.' },
  },
} as const;

const suggestQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['prefix'],
  properties: {
    prefix: { type: 'string', minLength: 1, maxLength: MAX_PREFIX_CHARS, description: 'What the user has typed so far; every word is a word prefix ("bench p").' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_SUGGESTIONS, default: DEFAULT_SUGGESTIONS },
  },
} as const;

const exerciseIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['exerciseId'],
  properties: { exerciseId: { type: 'string', format: 'uuid' } },
} as const;

function badQuery(field: string, message: string, code = 'VALIDATION_FAILED'): HttpProblem {
  return new HttpProblem(400, code, 'Bad Request', `${field}: ${message}`, [{ field, message }]);
}

/** Binds a cursor to its search: the folded words and the sorted filters. */
function queryHash(query: SearchQuery): string {
  const key = JSON.stringify([
    queryWords(query.q ?? '').join(' '),
    [...(query.muscle ?? [])].sort(),
    [...(query.equipment ?? [])].sort(),
    [...(query.level ?? [])].sort(),
    [...(query.category ?? [])].sort(),
  ]);
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

/**
 * GET /exercises (ranked fuzzy search with filters), GET /exercises/suggest (word-prefix
 * suggestions) and GET /exercises/{exerciseId}. Visible: the public catalog, the caller's
 * organisation's exercises and their own private ones. Anything else answers like a missing id.
 */
export function exerciseRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; pool?: Pick<ReadModelPool, 'connect'>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  const searchOptions = deps.pool === undefined ? {} : { pool: deps.pool };
  const tags = ['exercises'];

  app.get<{ Querystring: SearchQuery }>(
    '/exercises',
    {
      schema: {
        summary: 'Search the exercise library',
        description:
          'Full text plus trigram fuzzy matching on the name (typo tolerant), full text on muscles, equipment and category; filters combine with AND (values of one filter with OR). Best matches first; keyset pagination.',
        tags,
        querystring: searchQuerySchema,
        response: { 200: pageResponse('ExerciseSummary#', 'Pass as `cursor` (with the same q and filters) for the next page; null on the last page.'), ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const query = request.query;
      if (query.q !== undefined && queryWords(query.q).length === 0) throw badQuery('/querystring/q', 'must contain a letter or digit');
      const hash = queryHash(query);
      let after: ExerciseSearchCursor | undefined;
      if (query.cursor !== undefined) {
        try {
          after = decodeExerciseSearchCursor(query.cursor);
        } catch (error) {
          if (error instanceof InvalidCursorError) throw badQuery('/querystring/cursor', error.message, 'INVALID_CURSOR');
          throw error;
        }
        if (after.queryHash !== hash) throw badQuery('/querystring/cursor', 'the cursor belongs to another search (q or filters differ)', 'INVALID_CURSOR');
      }
      recordWhileReading(request);
      const hits = await searchExercises(db, scope, {
        ...(query.q === undefined ? {} : { q: query.q }),
        ...(query.muscle === undefined ? {} : { muscle: query.muscle }),
        ...(query.equipment === undefined ? {} : { equipment: query.equipment }),
        ...(query.level === undefined ? {} : { level: query.level }),
        ...(query.category === undefined ? {} : { category: query.category }),
        limit: query.limit + 1,
        ...(after === undefined ? {} : { after }),
      }, searchOptions);
      const page = hits.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor =
        hits.length > query.limit && last
          ? encodeExerciseSearchCursor({ score: String(last.score), sortName: last.sort_name, exerciseId: last.exercise_id, queryHash: hash })
          : null;
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: page.map((row) => exerciseSummary(row, scope)), nextCursor });
    },
  );

  app.get<{ Querystring: { prefix: string; limit: number } }>(
    '/exercises/suggest',
    {
      schema: {
        summary: 'Suggest exercise names as the user types',
        description: 'Names whose words start with the typed words; names starting with the whole prefix first, then shorter names.',
        tags,
        querystring: suggestQuerySchema,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['exerciseId', 'name', 'source'],
                  properties: { exerciseId: { type: 'string', format: 'uuid' }, name: { type: 'string' }, source: { type: 'string', enum: ['catalog', 'custom'] } },
                },
              },
            },
          },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { prefix, limit } = request.query;
      if (queryWords(prefix).length === 0) throw badQuery('/querystring/prefix', 'must contain a letter or digit');
      const rows = await suggestExercises(db, scope, prefix, limit);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: rows.map(suggestionOf) });
    },
  );

  app.get<{ Params: { exerciseId: string } }>(
    '/exercises/:exerciseId',
    {
      schema: {
        summary: 'One exercise of the library',
        description: 'Archived custom exercises are still returned (workouts keep naming them).',
        tags,
        params: exerciseIdParams,
        response: { 200: { $ref: 'ExerciseDetail#' }, 404: { $ref: 'Problem#' }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = await findExercise(db, scope, request.params.exerciseId);
      // Another organisation's or person's exercise and a missing one answer alike.
      if (!row) throw new HttpProblem(404, 'EXERCISE_NOT_FOUND', 'Not Found', 'no such exercise');
      return reply.headers(PRIVATE_CACHE_HEADERS).send(exerciseDetail(row, scope));
    },
  );
}
