// ESLint (flat config): typescript-eslint recommended + type-aware rules for library code,
// Prettier owns formatting. Import boundaries are checked by dependency-cruiser (npm run lint:deps).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'var/**',
      'coverage/**',
      'test-results/**',
      'libs/persistence/src/generated/**',
      'prisma/generated/**',
      'apps/dashboard/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // consistent-type-imports stays off: Nest injects by the runtime class that decorator metadata names.
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'read the environment only in libs/config (loadEnv); pass values in',
        },
      ],
    },
  },
  {
    // The config module reads process.env by design; tests and scripts set up child environments.
    files: [
      'libs/config/src/env.ts',
      'libs/testing/**',
      '**/*.spec.ts',
      'test/**/*.ts',
      'scripts/**',
      'bin/**',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The browser app: only the shared contract from @bench/events (dependency-cruiser checks it
    // too, this says it in the editor).
    files: ['apps/dashboard/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^@bench/(?!events$)', message: 'the dashboard imports only @bench/events' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        WebAssembly: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
