// Lint rules for headroom: typescript-eslint with type information. The rules that matter most for
// a promise-heavy library (no-floating-promises, no-misused-promises, await-thenable) need the
// type checker, so the TypeScript files are linted against tsconfig.json. Layout is Prettier's
// job (.prettierrc.json), so no stylistic rules here. `npm run lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's globals, for the few plain .js/.mjs scripts (the .ts files get theirs from @types/node). */
const nodeGlobals = Object.fromEntries(
  ['console', 'process', 'URL', 'Buffer', 'setTimeout', 'clearTimeout'].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  // docs/ holds Markdown and the declarations the docs' code blocks compile against;
  // .ci/consumer/ is a user's project, compiled in CI against the packed package, not src/.
  { ignores: ['dist/', 'docs/', 'coverage/', '.bench-tmp/', '.ci/consumer/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `async` without `await` is deliberate here: it turns a synchronous throw into a rejection
      // and keeps a method's shape the same as the promise-returning interface it implements.
      '@typescript-eslint/require-await': 'off',
      // Forwarding a caught `unknown` reason as it came is right for a library (it must not wrap
      // what the caller's code threw); literal non-Error reasons are still reported.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // A leading underscore marks a parameter kept for its position (an interface's signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // An options interface that extends one other keeps its own name in the docs and room to grow.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Patched node methods need both their own `this` (the response) and the owner's, named for it.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['exchange', 'late'] }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringContaining...) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
);
