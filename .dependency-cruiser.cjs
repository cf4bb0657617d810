// The architecture, as rules that `npm test` checks (dependency-cruiser). The layers, bottom up:
//   storage/  the database, its tables and migrations, identifier hashing, the event journal's interface
//   http/     the HTTP toolbox every area uses: auth and roles, problems, OpenAPI, body reading, logger, metrics
//   jobs/     the job runner and scheduler every area's periodic work registers with
//   areas     ingest/, consent/, retention/, review/, detectors/*: each reached by others through its index.ts only
//   api/      the composition root: builds the dependencies, the app, the server and the CLI; imported by nobody
// Tests may reach into what they test and build the app through test/harness.ts.
const AREAS = '(ingest|consent|retention|review|detectors)';
const NOT_TEST = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: split the shared part into a module both sides import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'root-imported-by-nobody',
      severity: 'error',
      comment: 'The composition root (api/) knows every area; nothing below it may import it.',
      from: { path: '^(http|jobs|storage|ingest|consent|retention|review|detectors)/', pathNot: NOT_TEST },
      to: { path: '^api/' },
    },
    {
      name: 'toolbox-below-areas',
      severity: 'error',
      comment: 'http/ imports only storage/ and libraries.',
      from: { path: '^http/', pathNot: NOT_TEST },
      to: { path: `^(api|jobs|${AREAS.slice(1, -1)})/` },
    },
    {
      name: 'jobs-below-areas',
      severity: 'error',
      comment: 'jobs/ runs what areas register; it imports only storage/, http/ and libraries.',
      from: { path: '^jobs/', pathNot: NOT_TEST },
      to: { path: `^(api|${AREAS.slice(1, -1)})/` },
    },
    {
      name: 'storage-at-the-bottom',
      severity: 'error',
      comment: 'storage/ imports libraries only.',
      from: { path: '^storage/', pathNot: NOT_TEST },
      to: { path: `^(api|http|jobs|${AREAS.slice(1, -1)})/` },
    },
    {
      name: 'areas-through-their-index',
      severity: 'error',
      comment:
        'An area uses another area through the types and functions of its index.ts, not its internals.',
      from: { path: `^${AREAS}/`, pathNot: NOT_TEST },
      to: {
        path: `^${AREAS}/`,
        pathNot: ['^$1/', '^(ingest|consent|retention|review)/index\\.ts$', '^detectors/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'services-throw-domain-errors',
      severity: 'error',
      comment:
        'Only the HTTP layer of an area (its routes and middleware) speaks problem+json; services throw the domain errors of storage/errors.ts.',
      from: { path: `^${AREAS}/`, pathNot: ['(^|/)routes\\.tsx?$', '^ingest/in-flight\\.ts$', NOT_TEST] },
      to: { path: '^http/problem\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
