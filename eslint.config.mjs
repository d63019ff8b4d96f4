// ESLint 9 flat config: typescript-eslint's type-checked recommended rules over the TypeScript of
// src/ and test/, the plain recommended rules over the build, bench and script files (JS).
// `npm run lint` runs this and `prettier --check`; formatting is prettier's job, not eslint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out-tsc/**', 'bench/out/**', 'node_modules/**', '.tools/**', 'winpe/**'] },
  js.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // tsconfig.json has noUncheckedIndexedAccess on, so the `!` after a proven index is needed.
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Off: ports and command actions are async by contract (ApplyHost, Volume, commander
      // actions); an implementation that happens not to await still returns a Promise.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a deliberately unused binding; `const { a, ...rest }` drops `a` on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Off: wufix matches control characters on purpose (terminal-safe output, log and XML
      // parsing of hostile input); every such regex is about exactly those characters.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read wufix's --json output and the reference tools' output as parsed JSON (`any`); the
    // assertions are what check its shape, so the no-unsafe-* family is noise there.
    files: ['test/**/*.ts', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Config files and the JS of build/, bench/, scripts/: Node globals, no type information.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js', '*.mts'],
    extends: [tseslint.configs.base],
    languageOptions: { globals: globals.node },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }] },
  },
);
