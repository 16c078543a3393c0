import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral } from './arrayLiteral';

describe('arrayLiteral', () => {
  let database: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await testDatabase('proj_array_literal');
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('is read back by PostgreSQL as the same values, whatever characters the strings hold', async () => {
    const texts = ['plain', '', 'NULL', 'with "quotes"', 'back\\slash', 'a,b', '{braces}', ' spaced ', 'ünïcødé 💪', 'line\nbreak', null];
    const { rows } = await pool.query<{ values: (string | null)[] }>('SELECT $1::text[] AS values', [arrayLiteral(texts)]);
    expect(rows[0]?.values).toEqual(texts);
  });

  it('writes numbers, booleans, dates and nulls as their array elements', async () => {
    const { rows } = await pool.query<{ n: string[]; b: boolean[]; t: Date[]; u: (string | null)[] }>(
      'SELECT $1::numeric[]::text[] AS n, $2::bool[] AS b, $3::timestamptz[] AS t, $4::uuid[] AS u',
      [arrayLiteral([100.0178, 0, -2.5, null]), arrayLiteral([true, false]), arrayLiteral([new Date('2024-05-01T07:30:00.123Z'), '2024-05-02T00:00:00Z']), arrayLiteral(['0189c0de-1111-7222-8333-444455556666', null])],
    );
    expect(rows[0]?.n).toEqual(['100.0178', '0', '-2.5', null]);
    expect(rows[0]?.b).toEqual([true, false]);
    expect(rows[0]?.t.map((d) => d.toISOString())).toEqual(['2024-05-01T07:30:00.123Z', '2024-05-02T00:00:00.000Z']);
    expect(rows[0]?.u).toEqual(['0189c0de-1111-7222-8333-444455556666', null]);
    expect(arrayLiteral([])).toBe('{}');
    expect(() => arrayLiteral([{ nested: true }])).toThrow(TypeError);
  });
});
