/**
 * Test entry point (`node --import tsx`): the production runner against DATABASE_URL until its
 * projections reach the head of `$all` as of start, then exits 0. Prints the runner's log as JSON
 * lines on stdout so a test can SIGKILL it at chosen moments (e.g. right after "applying batch").
 */
import { PostgresEventStore, START } from '@fitledger/event-store';
import { loadProjectionsConfig, openProjectionsService } from '../projectionsService';
import type { ProjectionLogger } from '../projectionRunner';

const line = (level: string) => (obj: object, msg?: string) => {
  process.stdout.write(`${JSON.stringify({ level, msg, ...obj })}\n`);
};
const logger: ProjectionLogger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };

const service = await openProjectionsService(loadProjectionsConfig(process.env), { logger });
const { runner } = service;
const store = new PostgresEventStore({ connectionString: process.env.DATABASE_URL ?? '' });
const head = await store.headPosition();
await store.close();
runner.start();
if (head !== START) await Promise.all(runner.projectionNames.map((name) => runner.waitForPosition(name, head, { pollMs: 50 })));
await service.close();
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'caught up', head })}\n`);
