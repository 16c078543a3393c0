import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// A failed test run sets process.exitCode and lets the process end; importing the embedded
// PostgreSQL fixture must not turn that into exit code 0 (CI would be green on red tests).
it('keeps a non-zero exit code of a process that loaded the embedded PostgreSQL fixture', () => {
  const script = "await import('@fitledger/testing'); process.exitCode = 3;";
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(result.status).toBe(3);
});
