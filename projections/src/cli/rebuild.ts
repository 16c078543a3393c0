/**
 * `npm run projections:rebuild -- <name>`: empties one read-model projection and replays `$all`
 * into it from the start. Reads DATABASE_URL and FITLEDGER_MASTER_KEY (or FITLEDGER_MASTER_KEY_FILE).
 * A projections process running meanwhile notices the reset checkpoint and stands aside per batch;
 * stop it first to avoid duplicate work.
 */
import { pino } from 'pino';
import { UnknownProjectionError } from '../projectionRunner';
import { ProjectionsConfigError, defaultProjections, loadProjectionsConfig, openProjectionsService } from '../projectionsService';

async function main(argv: readonly string[]): Promise<number> {
  const names = defaultProjections().map((p) => p.name);
  const name = argv[0];
  if (name === undefined || name.startsWith('-') || argv.length > 1) {
    process.stderr.write(`usage: npm run projections:rebuild -- <name>   (projections: ${names.join(', ')})\n`);
    return 2;
  }
  if (!names.includes(name)) {
    process.stderr.write(`unknown projection ${JSON.stringify(name)}; known projections: ${names.join(', ')}\n`);
    return 2;
  }
  let config;
  try {
    config = loadProjectionsConfig(process.env);
  } catch (error) {
    if (error instanceof ProjectionsConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = pino({ name: 'projections-rebuild' }, pino.destination(2));
  const service = await openProjectionsService(config, { logger });
  const abort = (): void => void service.runner.stop();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    const startedAt = Date.now();
    const head = await service.runner.rebuild(name);
    process.stdout.write(`rebuilt projection ${name} up to position ${head} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (error) {
    if (error instanceof UnknownProjectionError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`rebuild of ${name} failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await service.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
