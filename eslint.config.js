// Lint rules: typescript-eslint's recommended set, with unused names allowed when prefixed by _,
// and the house's shape (docs/architecture.md, "Rooms and directions"): a room is entered only
// through its front door, and only in the directions drawn below.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Which rooms (folders directly under src/) each room may import, through their index.ts. The
 * one table of directions: docs/architecture.md draws the same graph. Data flows down it; only
 * configuration comes back up, passed in by the CLI.
 */
const DIRECTIONS = {
  core: [],
  packet: ['core'],
  flow: ['core', 'packet'],
  scenario: ['core', 'packet', 'flow'],
  transport: ['core'],
  detect: ['core'],
  darknet: ['core', 'packet'],
  survey: ['core'],
  store: ['core'],
  intel: ['core', 'store'],
  share: ['core', 'store', 'intel'],
  uplink: ['core', 'intel', 'share'],
  notify: ['core'],
  hygiene: ['core'],
  osint: ['core'],
  sensor: ['core'],
  report: ['core', 'intel', 'share'],
  web: ['core'],
  console: ['core', 'store', 'intel', 'share', 'scenario', 'hygiene', 'sensor', 'osint'],
  cli: [
    'core',
    'packet',
    'flow',
    'scenario',
    'transport',
    'detect',
    'darknet',
    'survey',
    'store',
    'intel',
    'share',
    'uplink',
    'notify',
    'hygiene',
    'osint',
    'sensor',
    'report',
    'web',
    'console',
  ],
};
/** Rooms that any room's tests may use besides its own directions: seeded traffic with labelled truth. */
const TEST_DIRECTIONS = ['scenario'];
const ROOMS = Object.keys(DIRECTIONS);
/** A room's front door; tests, testing helpers and the outsiders (bench/, scripts/) may also use its testing.ts. */
const FRONT_DOOR = 'index.ts';
const TEST_DOORS = ['index.ts', 'testing.ts'];

const room = (name) => ({ type: 'room', captured: { room: name } });
const policies = [
  ...ROOMS.map((from) => ({
    from: { element: room(from) },
    allow: {
      to: {
        element: {
          ...room(`{${[...DIRECTIONS[from], '__none__'].join(',')}}`),
          fileInternalPath: FRONT_DOOR,
        },
      },
    },
  })),
  ...ROOMS.map((from) => ({
    from: { element: room(from), file: { categories: 'test' } },
    allow: {
      to: {
        element: {
          ...room(`{${[...DIRECTIONS[from], ...TEST_DIRECTIONS, '__none__'].join(',')}}`),
          fileInternalPath: `{${TEST_DOORS.join(',')}}`,
        },
      },
    },
  })),
  // The SPA (console/) reads the console API's bodies from the one types module the server uses
  // (types only, no imports of its own): its contract with the server, not a way into the room.
  {
    from: { element: { type: 'spa' } },
    allow: { to: { element: { ...room('console'), fileInternalPath: 'api/types.ts' } } },
  },
  // The console's tests check the SPA's own ja/en dictionaries: every page against them (raw keys,
  // the wrong language), and every attribute intel's intakes write against the evidence
  // vocabulary. The two SPA modules (data only) a test of the room that serves it reads.
  {
    from: { element: room('console'), file: { categories: 'test' } },
    allow: {
      to: { element: { type: 'spa', fileInternalPath: '{src/i18n.ts,src/evidence-vocabulary.ts}' } },
    },
  },
  // The terminal sensor package (sensor/) shares the wire contract with the centre: the one
  // module of src/ it may import, and that module imports nothing of the project itself.
  {
    from: { element: { type: 'terminal' } },
    allow: { to: { element: { ...room('sensor'), fileInternalPath: 'protocol.ts' } } },
  },
  {
    from: { element: { type: '{bench,scripts}' } },
    allow: { to: { element: { type: 'room', fileInternalPath: `{${TEST_DOORS.join(',')}}` } } },
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'console/dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Issue #17: a function longer than this does more than one thing; split it by what it does.
      'max-lines-per-function': ['error', { max: 150 }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: [
      'src/**/*.ts',
      'bench/**/*.{ts,mjs}',
      'scripts/**/*.{ts,mjs}',
      'console/**/*.{ts,tsx}',
      'sensor/**/*.{ts,mjs}',
    ],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': [
        { type: 'room', pattern: 'src/*', partialMatch: false, capture: ['room'] },
        { type: 'bench', pattern: 'bench', partialMatch: false },
        { type: 'scripts', pattern: 'scripts', partialMatch: false },
        { type: 'spa', pattern: 'console', partialMatch: false },
        { type: 'terminal', pattern: 'sensor', partialMatch: false },
      ],
      // Tests and testing helpers (a room's testing.ts, the console's browser-test support
      // e2e-support.ts, fixtures under testdata/).
      'boundaries/files': [
        {
          category: 'test',
          pattern: ['**/*.test.ts', '**/testing.ts', '**/e2e-support.ts', '**/testdata/**'],
        },
      ],
    },
    rules: { 'boundaries/dependencies': ['error', { default: 'disallow', policies }] },
  },
);
