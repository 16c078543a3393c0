// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.fitledger/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The domain is pure: no Node built-ins, no I/O or framework libraries.
    files: ['packages/domain/src/**/*.ts'],
    ignores: ['packages/domain/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'packages/domain is pure: no Node built-ins.' },
          { group: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads', 'stream'], message: 'packages/domain is pure: no Node built-ins.' },
          { group: ['pg', 'kysely', 'fastify', 'fastify/*', '@fastify/*', '@temporalio/*', 'pino', '@opentelemetry/*', 'chdb', '@clickhouse/*', 'ws', 'undici'], message: 'packages/domain may not import I/O or framework libraries.' },
          { group: ['@fitledger/event-store', '@fitledger/crypto', '@fitledger/testing', '@fitledger/auth', '@fitledger/observability', '@fitledger/analytics-store'], message: 'packages/domain depends on nothing with I/O.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
