// The import rules of docs/architecture.md, checked by `make lint-deps` (part of `make test`):
// every folder of src/ may import only the folders listed for it; no cycles.
const ALLOWED = {
  shared: [],
  model: ['shared'],
  hive: ['shared'],
  disk: ['shared', 'model'],
  formats: ['shared', 'model', 'hive'],
  windows: ['shared', 'model', 'hive', 'formats'],
  platform: ['shared', 'model', 'disk'],
  scan: ['shared', 'model', 'hive', 'disk', 'formats', 'windows'],
  engine: ['shared', 'model', 'hive', 'disk', 'formats', 'windows'],
  repairs: ['shared', 'model', 'hive', 'formats', 'windows', 'engine'],
  winre: ['shared', 'model', 'hive', 'disk', 'formats', 'windows', 'engine', 'platform'],
  cli: ['shared', 'model', 'hive', 'disk', 'formats', 'windows', 'platform', 'scan', 'engine', 'repairs', 'winre'],
};
const LAYERS = Object.keys(ALLOWED);

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two modules one: split the shared part out, or pass it in.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...LAYERS.map((layer) => ({
      name: `${layer}-imports-down`,
      comment: `src/${layer} may import only ${ALLOWED[layer].length ? ALLOWED[layer].map((l) => `src/${l}`).join(', ') : 'node built-ins'} (docs/architecture.md)`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: '^src/', pathNot: `^src/(${[layer, ...ALLOWED[layer]].join('|')})/` },
    })),
    {
      name: 'repairs-are-pure-planners',
      comment:
        'A repair reads the volume only through the Volume port it is given (src/engine/volume.ts): no file system, no safe-fs layer, no host path lookups.',
      severity: 'error',
      from: { path: '^src/repairs/' },
      to: { path: '^((node:)?fs(/promises)?|src/shared/safefs\\.ts|src/hive/hivefile\\.ts|src/windows/(paths|files)\\.ts)$' },
    },
    {
      name: 'src-is-not-tests',
      comment: 'Product code never imports test helpers.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-unknown-folder',
      comment: 'Every module of src/ lives in one of the folders of docs/architecture.md.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
