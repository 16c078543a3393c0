/**
 * Offline audit log verifier:
 *
 *   npm run audit:verify -- --log <export.ndjson> --checkpoints <dir> --keys <public keys file or dir> [--origin <origin>] [--json]
 *
 * Needs no database and no network: the export, the checkpoint folder and the published keys are
 * all it reads. Exit code 0 when every checkpoint verifies against the recomputed tree, 1 when
 * anything does not (the first failing checkpoint and, when it can be pinned down, the first
 * differing entry are named), 2 for a usage or file error.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DirectoryCheckpointSink } from '../checkpointStore';
import { readVerifierKeys } from '../signingKeyring';
import { verifyLog, type VerifyLogResult } from '../verifyLog';

const USAGE = 'usage: npm run audit:verify -- --log <export.ndjson> --checkpoints <dir> --keys <public keys file or dir> [--origin <origin>] [--json]';

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        log: { type: 'string' },
        checkpoints: { type: 'string' },
        keys: { type: 'string' },
        origin: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { log, checkpoints: checkpointDir, keys: keysPath } = values;
  if (log === undefined || checkpointDir === undefined || keysPath === undefined) {
    process.stderr.write(`--log, --checkpoints and --keys are required\n${USAGE}\n`);
    return 2;
  }

  let publicKeys;
  let checkpoints;
  try {
    publicKeys = await readVerifierKeys(keysPath);
    checkpoints = await new DirectoryCheckpointSink(checkpointDir).list();
  } catch (error) {
    process.stderr.write(`cannot read the keys or checkpoints: ${(error as Error).message}\n`);
    return 2;
  }

  const stream = createReadStream(log, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    process.stderr.write(`cannot read the log export: ${(error as Error).message}\n`);
    return 2;
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const result = await verifyLog({ lines, checkpoints, publicKeys, ...(values.origin !== undefined ? { origin: values.origin } : {}) });

  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.ok) process.stdout.write(summary(result));
  else process.stderr.write(failureReport(result));
  return result.ok ? 0 : 1;
}

function summary(result: VerifyLogResult): string {
  const rate = result.durationMs > 0 ? Math.round(result.entries / (result.durationMs / 1000)) : result.entries;
  return [
    'audit log verified',
    `  entries:              ${result.entries} (${result.events} events, ${result.accessRecords} access records)`,
    `  checkpoints verified: ${result.checkpointsVerified}, covering the first ${result.verifiedSize} entries`,
    `  not yet checkpointed: ${result.uncoveredEntries} entries`,
    `  throughput:           ${rate} entries/s (${(result.durationMs / 1000).toFixed(2)} s)`,
    '',
  ].join('\n');
}

function failureReport(result: VerifyLogResult): string {
  const failure = result.failure;
  const lines = [`audit log verification FAILED: ${failure?.message ?? 'unknown reason'}`];
  if (failure?.checkpoint) lines.push(`  first failing checkpoint: ${failure.checkpoint.name}${failure.checkpoint.size !== undefined ? ` (${failure.checkpoint.size} entries)` : ''}`);
  if (failure?.lastGoodCheckpoint) lines.push(`  last good checkpoint:     ${failure.lastGoodCheckpoint.name} (${failure.lastGoodCheckpoint.size} entries)`);
  if (failure?.firstDifferingSeq !== undefined) lines.push(`  first differing entry:    seq ${failure.firstDifferingSeq}`);
  else if (failure?.suspectRange) lines.push(`  first difference among:  seq ${failure.suspectRange.fromSeq}..${failure.suspectRange.toSeq}`);
  lines.push(`  entries read: ${result.entries}; checkpoints verified: ${result.checkpointsVerified} of ${result.checkpoints.length}`);
  return `${lines.join('\n')}\n`;
}

process.exitCode = await main(process.argv.slice(2));
