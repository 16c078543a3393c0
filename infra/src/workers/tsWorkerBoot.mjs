// The first module of every worker thread the system starts: Node 20 does not carry tsx's loader
// (the --import hook of `tsx`) into worker threads, so the worker registers it here and then loads
// its TypeScript entry, named by the spawning thread in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
