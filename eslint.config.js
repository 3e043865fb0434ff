// The project's linter (`npm run lint`, run by .ci/run before the tests). Its job is the bugs tsc lets through:
// promises nobody awaits, `any` leaking from a dependency's types, values that print as "[object Object]".
// Style is not its job: no stylistic preset, no formatting rules.
//
// The TypeScript rules are type-aware (typescript-eslint reading tsconfig.test.json, one program for every
// .ts file), which is what finds a floating promise or an `any` at all, and costs most of the run's time.
import { fileURLToPath } from 'node:url';
import { includeIgnoreFile } from '@eslint/compat';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // What git ignores (dist/, the packs under .dev/, training and bench work folders) is built, not written.
  includeIgnoreFile(fileURLToPath(new URL('.gitignore', import.meta.url)), 'the .gitignore'),
  {
    name: 'project/linter-options',
    // A disable comment that no longer silences anything fails too, so none outlives its reason.
    linterOptions: { reportUnusedDisableDirectives: 'error', reportUnusedInlineConfigs: 'error' },
  },
  {
    // ESLint's own recommended rules: logic errors that type checking does not see (a constant condition,
    // an unsafe `finally`, a fallthrough, an error rethrown without its cause). typescript-eslint's
    // recommended set below turns off those of them that tsc already checks (no-undef and the like).
    name: 'project/all-code',
    extends: [js.configs.recommended],
    rules: {
      // `==` only against null (which also matches undefined, on purpose); elsewhere its coercions hide bugs.
      eqeqeq: ['error', 'smart'],
      // Changed: a `let` that a closure reads before its one assignment stays a `let`. As a `const` declared
      // at that assignment, the closure would throw (temporal dead zone) if it ran first, as the engine's
      // worker-crash handler can while the model still loads.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // The Node scripts written in JavaScript (CI's audit, data download, test prerequisites, the load client).
    // They are linted without type information: TypeScript would infer little more than `any` for them.
    name: 'project/node-scripts',
    files: ['**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // The playground's page script: a classic <script> in the browser, no modules, no bundler.
    name: 'project/playground',
    files: ['server/playground/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
  {
    name: 'project/typescript',
    files: ['**/*.ts', '**/*.mts'],
    // recommendedTypeChecked, not strictTypeChecked: the strict set's biggest rule, no-non-null-assertion,
    // would forbid the `!` with which this code states its invariants under noUncheckedIndexedAccess, and its
    // no-unnecessary-condition flags every `while (running)` whose flag a callback clears. Left out as well:
    // no-await-in-loop (the awaits in loops here are sequential on purpose) and no-console (the command line,
    // the benchmarks and the scripts write to the console by design).
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // tsconfig.test.json covers every TypeScript folder (tsconfig.json leaves out tools, scripts and tests).
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise that is neither awaited nor handled loses its rejection. The exception is a tap subtest:
      // tap itself waits for every subtest of a test, so `t.test(...)` is not awaited by convention.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
      }],
      // `return promise` inside try/catch/finally lets the rejection skip the catch or the finally runs too
      // early; this is the only part of return-await that changes behaviour, so only it is enforced.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // A switch over a union (error codes, protocols, dtypes) names every member, so that adding one is a
      // finding wherever it is not handled; a default branch alone does not count as handling it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      // A deprecated API of Node or of a dependency is found when it is deprecated, not when it is removed.
      '@typescript-eslint/no-deprecated': 'error',
      // Off: Fastify plugins and route handlers, tap callbacks and the backend interfaces are async by
      // contract, with or without an await inside; the rule would demand `async` go or a needless await.
      '@typescript-eslint/require-await': 'off',
      // Changed: passing on a caught value (of type unknown) is allowed, as only-throw-error allows rethrowing
      // it; what the rule is for is a rejection with a value made up as a non-Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Changed: `_` names a deliberately unused loop variable; an object rest that leaves properties out names them
      // only to leave them out.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_$', ignoreRestSiblings: true }],
    },
  },
  {
    // Off in tests: they read JSON and YAML bodies as `any` on purpose and assert their shape at run time (t.match,
    // t.same): typing every body would restate the API's schemas beside the assertions that check them.
    // Everything else (floating promises above all) holds in tests as in the service.
    name: 'project/tests',
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
