// ESLint with typescript-eslint's type-aware rules (`npm run lint`, run by .ci/run): a promise nobody awaits, or one
// passed where a callback's result is dropped, fails CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'coverage/', '.ci/', 'helm/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Fastify plugins and hooks are async functions by convention, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      // The APKINDEX, tar and gzip readers match control bytes on purpose.
      'no-control-regex': 'off',
      // `let [a, b] = ...` where only some are reassigned stays one statement.
      'prefer-const': ['error', { destructuring: 'all' }],
      // A caught error that was kept for later is rethrown as it is, whatever its static type.
      '@typescript-eslint/only-throw-error': ['error', { allowRethrowing: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Tests and benchmarks read JSON and YAML they just wrote and assert on its shape; typing every document
    // would add nothing. Their local HTTP servers take async handlers that catch their own errors.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'vitest.config.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
);
