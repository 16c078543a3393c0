/**
 * `npm run keys:rotate-master -- <stage|promote|rewrap|retire|status>`: rotates the local key
 * store's master key while services keep running. The order and why it is safe:
 * packages/crypto/MASTER_KEY_ROTATION.md; the steps: masterKeyRotation.ts.
 */
import { runMasterKeyRotation } from '../masterKeyRotation';

process.exitCode = await runMasterKeyRotation(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
