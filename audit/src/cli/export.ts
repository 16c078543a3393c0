/**
 * Exports the audit log for the offline verifier:
 *
 *   DATABASE_URL=postgres://… npm run audit:export -- [--out <export.ndjson>] [--from <seq>] [--to <seq>]
 *
 * Writes NDJSON export lines (to stdout without --out) read from the database as it is now, in
 * one snapshot. Then: `npm run audit:verify -- --log <export.ndjson> --checkpoints <dir> --keys <file>`.
 * Exit code 0 when every leaf's row was found, 1 when some were missing or unreadable (the export
 * is written all the same: the verifier shows what changed), 2 for a usage or database error.
 */
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { exportLog, type ExportSummary } from '../export';

const USAGE = 'usage: DATABASE_URL=postgres://… npm run audit:export -- [--out <export.ndjson>] [--from <seq>] [--to <seq>]';

function seqOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`--${name} must be a non-negative integer`);
  return Number(value);
}

async function main(argv: readonly string[]): Promise<number> {
  let options: { out?: string; fromSeq?: number; toSeq?: number };
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', default: false } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const fromSeq = seqOption(values.from, 'from');
    const toSeq = seqOption(values.to, 'to');
    options = { ...(values.out !== undefined ? { out: values.out } : {}), ...(fromSeq !== undefined ? { fromSeq } : {}), ...(toSeq !== undefined ? { toSeq } : {}) };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const url = process.env.DATABASE_URL?.trim();
  if (url === undefined || url === '') {
    process.stderr.write(`DATABASE_URL is required\n${USAGE}\n`);
    return 2;
  }

  let out: Writable = process.stdout;
  if (options.out !== undefined) {
    try {
      // 'wx': never overwrite an earlier export.
      out = (await open(options.out, 'wx', 0o600)).createWriteStream();
    } catch (error) {
      process.stderr.write(`cannot create ${options.out}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  let summary: ExportSummary;
  try {
    summary = await exportLog(pool, out, options);
    if (out !== process.stdout) {
      out.end();
      await finished(out);
    }
  } catch (error) {
    process.stderr.write(`export failed: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await pool.end();
  }
  const lines = [`exported ${summary.entries} entries (seq ${summary.fromSeq}..${summary.toSeq} of a tree of ${summary.treeSize})`];
  for (const m of summary.missing.slice(0, 20)) lines.push(`  missing: seq ${m.seq} (${m.kind} ${m.ref}): its row is gone`);
  if (summary.missing.length > 20) lines.push(`  … and ${summary.missing.length - 20} more missing`);
  if (summary.malformed.length > 0) lines.push(`  unreadable rows at seq ${summary.malformed.slice(0, 20).join(', ')}${summary.malformed.length > 20 ? ', …' : ''}`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return summary.missing.length + summary.malformed.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
