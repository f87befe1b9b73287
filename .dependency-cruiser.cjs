// Import rules of the architecture (docs/architecture.md §Layout), enforced in CI by `npm run lint`.
const lib = (name) => `^libs/${name}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-libs-import-nothing-internal',
      comment: 'protocols (pure codecs) and bench-domain (pure types and rules) import no other bench code',
      severity: 'error',
      from: { path: '^libs/(protocols|bench-domain)/' },
      to: { path: '^(libs|apps)/', pathNot: ['^libs/(protocols|bench-domain)/'] },
    },
    {
      name: 'protocols-stay-pure',
      comment: 'codecs never touch sockets, files or USB',
      severity: 'error',
      from: { path: lib('protocols') },
      to: { dependencyTypes: ['core'], path: '^(net|tls|fs|fs/promises|child_process|dgram|http|https)$' },
    },
    {
      name: 'server-never-touches-usb',
      comment: 'the server never opens a USB device: no usb-transport, device-sim, restore-engine or usb',
      severity: 'error',
      from: { path: '^apps/server/' },
      to: { path: ['^libs/(usb-transport|device-sim|restore-engine)/', '(^|/)node_modules/usb/'] },
    },
    {
      name: 'server-cannot-reach-usb',
      comment: 'not even through another lib: nothing the server loads may lead to USB code',
      severity: 'error',
      from: { path: '^apps/server/' },
      to: {
        path: ['^libs/(usb-transport|device-sim|restore-engine)/', '(^|/)node_modules/usb/'],
        reachable: true,
      },
    },
    {
      name: 'engine-has-no-framework',
      comment: 'restore-engine depends only on interfaces: no Nest, BullMQ, Prisma or the real usb package',
      severity: 'error',
      from: { path: lib('restore-engine') },
      to: {
        path: ['(^|/)node_modules/(@nestjs|bullmq|@prisma|usb)/', '^libs/(persistence|jobs|app-runtime)/'],
      },
    },
    {
      name: 'reports-have-no-framework',
      comment: 'reports are built from plain records: no Nest, BullMQ, Prisma, USB or database code',
      severity: 'error',
      from: { path: lib('reports') },
      to: {
        path: [
          '(^|/)node_modules/(@nestjs|bullmq|@prisma|usb|ioredis)/',
          '^libs/(persistence|jobs|app-runtime|usb-transport|device-sim|restore-engine)/',
        ],
      },
    },
    {
      name: 'only-usb-transport-imports-usb',
      severity: 'error',
      from: { pathNot: lib('usb-transport') },
      to: { path: '(^|/)node_modules/usb/' },
    },
    {
      name: 'only-persistence-imports-prisma',
      severity: 'error',
      from: { pathNot: [lib('persistence')] },
      to: { path: '(^|/)node_modules/(@prisma/client|@prisma/adapter-[a-z0-9-]+)/' },
    },
    {
      name: 'dashboard-imports-types-only',
      comment: 'the browser app may use the shared event map and DTO types, nothing else of ours',
      severity: 'error',
      from: { path: '^apps/dashboard/' },
      to: { path: '^libs/', pathNot: ['^libs/events/'] },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'testing-only-in-tests',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['\\.spec\\.ts$', lib('testing')] },
      to: { path: lib('testing') },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { pathNot: 'generated/' },
      to: { circular: true, pathNot: 'generated/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)generated/', '^dist/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
