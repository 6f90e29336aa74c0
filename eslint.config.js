import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['templates/**', 'dist/', 'node_modules/', '.cache/', '.faasline/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests must be able to fail: none focused or skipped, none without an assertion, none named like another.
    files: ['**/*.test.ts', '**/*.spec.ts'],
    plugins: { jest },
    rules: {
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/no-identical-title': 'error',
      'jest/valid-expect': 'error',
      'jest/expect-expect': [
        'error',
        {
          assertFunctionNames: [
            'expect',
            'expect*',
            'given.**.then',
            'given.**.thenNothing',
            'given.**.thenThrows',
            'given.**.thenRefuses',
            'given.then',
            'assert*',
          ],
        },
      ],
    },
  },
  {
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'pg', 'kafkajs', '#infra'], message: 'libs/domain is pure: no Nest and no I/O.' },
            { group: ['node:*', '!node:assert', '!node:assert/strict'], message: 'libs/domain is pure: no I/O.' },
          ],
        },
      ],
    },
  },
  // Formatting is Prettier's (npm run lint checks it): no ESLint rule argues with it.
  prettier,
);
