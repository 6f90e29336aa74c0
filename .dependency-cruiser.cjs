/* global module */
/** Structure rules (issue 12): one kernel under sibling apps, libraries never above apps, a pure domain, no circles. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle makes load order matter (TDZ errors under ESM) and the modules inseparable.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-app-to-app',
      severity: 'error',
      comment: 'Apps are siblings over the libraries: what two apps share belongs in a library (libs/kernel for Nest wiring).',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'no-lib-to-app',
      severity: 'error',
      comment: 'Libraries sit under the apps and never reach up into one.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'domain-stays-pure',
      severity: 'error',
      comment: 'libs/domain is pure: no infrastructure, no Nest kernel, no framework.',
      from: { path: '^libs/domain/' },
      to: { path: ['^libs/(infra|kernel|projections|gateway)/', 'node_modules/@nestjs/', 'node_modules/typeorm/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.jest.json' },
    enhancedResolveOptions: {
      conditionNames: ['@faasline/source', 'import', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
