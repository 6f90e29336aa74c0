import type { SourceFetched } from '#domain';
import type { RepoFiles } from '../../../test/support/git-repos.js';

/**
 * Stack files as users write them, valid and hostile, each with what faasline must make of it. Every rule of
 * the stack-file parser and validation has at least one case here.
 */
export type CorpusCase = Readonly<{
  name: string;
  owner?: string;
  files: RepoFiles;
  config?: Readonly<{
    enableDockerfileLang?: boolean;
    maxContextBytes?: number;
    maxFunctionsPerRepo?: number;
    maxFunctionMemory?: string;
    maxFunctionCpu?: string;
  }>;
  /** The whole push is refused with this reason. */
  rejected?: RegExp;
  /** Function names that build, and per-function refusals by stack key. */
  functions?: readonly string[];
  functionRejections?: Readonly<Record<string, RegExp>>;
  check?: (source: SourceFetched['data']) => void;
}>;

const handler = { 'fn1/handler.js': 'module.exports = async () => "fn1";\n', 'fn1/package.json': '{"name":"fn1"}\n' };
const stack = (functions: string, extra = '') =>
  `version: 1.0\nprovider:\n  name: openfaas\n  gateway: http://127.0.0.1:8080\n${extra}functions:\n${functions}`;
const fn = (key: string, fields = '') =>
  `  ${key}:\n    lang: node20\n    handler: ./fn1\n    image: alexellis2/${key.toLowerCase().replace(/[^a-z0-9-]/g, '')}:0.2\n${fields}`;

export const corpus = (templateRepoUrl: string, forbiddenTemplateUrl: string): CorpusCase[] => [
  { name: 'a minimal function', files: { 'stack.yml': stack(fn('fn1')), ...handler }, functions: ['alexellis-fn1'] },
  {
    name: 'stack.yaml is read before stack.yml',
    files: { 'stack.yaml': stack(fn('first')), 'stack.yml': stack(fn('second')), ...handler },
    functions: ['alexellis-first'],
    check: (source) => {
      if (source.stackFile !== 'stack.yaml') throw new Error(`read ${source.stackFile}`);
    },
  },
  {
    name: 'provider name faas (before 2020)',
    files: { 'stack.yml': stack(fn('fn1')).replace('name: openfaas', 'name: faas'), ...handler },
    functions: ['alexellis-fn1'],
  },
  {
    name: 'a provider that is not OpenFaaS',
    files: { 'stack.yml': stack(fn('fn1')).replace('name: openfaas', 'name: kubeless'), ...handler },
    rejected: /provider\.name must be "openfaas", not "kubeless"/,
  },
  {
    name: 'an unknown version',
    files: { 'stack.yml': stack(fn('fn1')).replace('version: 1.0', 'version: 2.0'), ...handler },
    rejected: /version must be "1\.0"/,
  },
  {
    name: 'not YAML',
    files: { 'stack.yml': 'provider:\n  name: openfaas\nfunctions: [unclosed\n', ...handler },
    rejected: /stack\.yml is not valid YAML at line \d+/,
  },
  {
    name: 'duplicate function keys',
    files: { 'stack.yml': stack(fn('unfluff') + fn('unfluff')), ...handler },
    rejected: /not valid YAML.*duplicated mapping key/,
  },
  { name: 'no stack file', files: { 'README.md': 'no functions here\n' }, rejected: /no stack\.yml or stack\.yaml at the root/ },
  {
    name: 'a stack file that is a symlink',
    files: { 'stack.yml': { symlink: '/etc/hostname' }, ...handler },
    rejected: /stack\.yml must be a regular file/,
  },
  {
    name: 'no functions',
    files: { 'stack.yml': stack(' {}\n').replace('functions:\n {}', 'functions: {}'), ...handler },
    rejected: /declares no functions/,
  },
  {
    name: 'more functions than MAX_FUNCTIONS_PER_REPO',
    files: { 'stack.yml': stack(Array.from({ length: 4 }, (_, i) => fn(`fn${i}`)).join('')), ...handler },
    config: { maxFunctionsPerRepo: 3 },
    rejected: /declares 4 functions; the limit is 3 \(MAX_FUNCTIONS_PER_REPO\)/,
  },
  {
    name: 'a function whose name would be 64 characters',
    files: { 'stack.yml': stack(fn('fn1') + fn(`f${'x'.repeat(53)}`)), ...handler },
    functions: ['alexellis-fn1'],
    functionRejections: { [`f${'x'.repeat(53)}`]: /is 64 characters; the limit is 63/ },
  },
  {
    name: 'an upper-case owner is lower-cased, never rejected',
    owner: 'AlexEllis',
    files: { 'stack.yml': stack(fn('fn1')), ...handler },
    functions: ['alexellis-fn1'],
  },
  {
    name: 'a stack key that is not a DNS label',
    files: { 'stack.yml': stack(fn('My_Fn')), ...handler },
    functions: [],
    functionRejections: { My_Fn: /must be lower-case letters, digits and "-"/ },
  },
  {
    name: 'no handler',
    files: { 'stack.yml': stack('  fn1:\n    lang: node20\n    image: fn1:latest\n'), ...handler },
    functions: [],
    functionRejections: { fn1: /handler is missing/ },
  },
  {
    name: 'an absolute handler',
    files: { 'stack.yml': stack(fn('fn1').replace('./fn1', '/etc')), ...handler },
    functions: [],
    functionRejections: { fn1: /handler "\/etc" must be a folder inside the repository/ },
  },
  {
    name: 'a handler climbing out with ../',
    files: { 'stack.yml': stack(fn('fn1').replace('./fn1', 'fn1/../../other')), ...handler },
    functions: [],
    functionRejections: { fn1: /must be a folder inside the repository/ },
  },
  {
    name: 'a handler that is a symlink to /etc',
    files: { 'stack.yml': stack(fn('fn1').replace('./fn1', './etc')), etc: { symlink: '/etc' }, ...handler },
    functions: [],
    functionRejections: { fn1: /handler etc is a symlink to outside the repository/ },
  },
  {
    name: 'a file in the handler linking to /etc/passwd',
    files: { 'stack.yml': stack(fn('fn1')), ...handler, 'fn1/passwd': { symlink: '/etc/passwd' } },
    functions: [],
    functionRejections: { fn1: /function\/passwd is a symlink to outside the repository/ },
  },
  {
    name: 'a handler folder that does not exist',
    files: { 'stack.yml': stack(fn('fn1').replace('./fn1', './missing')), ...handler },
    functions: [],
    functionRejections: { fn1: /handler missing does not exist/ },
  },
  {
    name: 'a repository-local template/ folder',
    files: { 'stack.yml': stack(fn('fn1')), ...handler, 'template/node20/template.yml': 'language: node20\n' },
    rejected: /unsupported custom "templates" folder/,
  },
  {
    name: 'an unknown lang',
    files: { 'stack.yml': stack(fn('fn1').replace('node20', 'rust')), ...handler },
    functions: [],
    functionRejections: { fn1: /unknown language "rust" \(available: .*node20/ },
  },
  {
    name: 'lang is case-insensitive',
    files: { 'stack.yml': stack(fn('fn1').replace('node20', 'Node20')), ...handler },
    functions: ['alexellis-fn1'],
  },
  {
    name: 'lang: Dockerfile while ENABLE_DOCKERFILE_LANG is false',
    files: { 'stack.yml': stack(fn('fn1').replace('node20', 'Dockerfile')), 'fn1/Dockerfile': 'FROM scratch\n' },
    functions: [],
    functionRejections: { fn1: /lang dockerfile is disabled on this server \(ENABLE_DOCKERFILE_LANG\)/ },
  },
  {
    name: 'lang: dockerfile when enabled: the handler is the context root',
    files: { 'stack.yml': stack(fn('fn1').replace('node20', 'dockerfile')), 'fn1/Dockerfile': 'FROM scratch\n' },
    config: { enableDockerfileLang: true },
    functions: ['alexellis-fn1'],
  },
  {
    name: 'a handler over the size limit',
    files: { 'stack.yml': stack(fn('fn1')), ...handler, 'fn1/blob.bin': 'x'.repeat(300 * 1024) },
    config: { maxContextBytes: 256 * 1024 },
    functions: [],
    functionRejections: { fn1: /the build context is over/ },
  },
  {
    name: 'an invalid secret name',
    files: { 'stack.yml': stack(fn('fn1', '    secrets:\n      - Bad_Secret\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /secret name "Bad_Secret"/ },
  },
  {
    name: 'an invalid environment variable name',
    files: { 'stack.yml': stack(fn('fn1', '    environment:\n      "1X": y\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /environment variable name "1X"/ },
  },
  {
    name: 'map scalars are strings as written (GO111MODULE: on stays "on")',
    files: {
      'stack.yml': stack(
        fn(
          'fn1',
          '    environment:\n      redis_port: 6379\n      write_debug: true\n      ratio: 1.50\n      empty:\n    labels:\n      com.openfaas.scale.zero: false\n    build_args:\n      GO111MODULE: on\n',
        ),
      ),
      ...handler,
    },
    functions: ['alexellis-fn1'],
    check: (source) => {
      const spec = source.functions[0]!;
      expectEqual(spec.environment, { redis_port: '6379', write_debug: 'true', ratio: '1.50', empty: '' });
      expectEqual(spec.labels, { 'com.openfaas.scale.zero': 'false' });
      expectEqual(spec.buildArgs, { GO111MODULE: 'on' });
    },
  },
  {
    name: 'environment_file values override inline environment, later files win',
    files: {
      'stack.yml': stack(
        fn(
          'fn1',
          '    environment:\n      a: inline\n      b: inline\n      c: inline\n    environment_file:\n      - env/one.yml\n      - ./env/two.yml\n',
        ),
      ),
      'env/one.yml': 'environment:\n  b: one\n  c: one\n',
      'env/two.yml': 'environment:\n  c: two\n',
      ...handler,
    },
    functions: ['alexellis-fn1'],
    check: (source) => expectEqual(source.functions[0]!.environment, { a: 'inline', b: 'one', c: 'two' }),
  },
  {
    name: 'a missing environment_file fails that function only',
    files: { 'stack.yml': stack(fn('fn1', '    environment_file:\n      - missing.yml\n') + fn('fn2')), ...handler },
    functions: ['alexellis-fn2'],
    functionRejections: { fn1: /environment_file missing\.yml does not exist/ },
  },
  {
    name: '${VAR:-default} substitution, and the server environment never leaks in',
    files: {
      'stack.yml': stack(
        fn('fn1', '    environment:\n      home: "${HOME}"\n      db: "${DATABASE_URL:-none}"\n').replace(
          'alexellis2/fn1:0.2',
          '${DOCKER_USER:-alexellis}/fn1:${TAG:-0.3}',
        ),
      ),
      ...handler,
    },
    functions: ['alexellis-fn1'],
    check: (source) => {
      expectEqual(source.functions[0]!.environment, { home: '', db: 'none' });
      if (!/\/alexellis\/corpus-fn1:0\.3-master-[0-9a-f]{7}$/.test(source.functions[0]!.image)) throw new Error(source.functions[0]!.image);
    },
  },
  {
    name: 'a reserved com.openfaas.cloud label',
    files: { 'stack.yml': stack(fn('fn1', '    labels:\n      com.openfaas.cloud.git-owner: someone-else\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /label "com\.openfaas\.cloud\.git-owner" is reserved/ },
  },
  {
    name: 'annotations outside the allow-list are dropped; secrets get the owner prefix',
    files: {
      'stack.yml': stack(
        fn('fn1', '    annotations:\n      topic: payments\n      com.openfaas.profile: privileged\n    secrets:\n      - db-pass\n'),
      ),
      ...handler,
    },
    functions: ['alexellis-fn1'],
    check: (source) => {
      expectEqual(source.functions[0]!.annotations, { topic: 'payments' });
      expectEqual(source.functions[0]!.secrets, ['alexellis-db-pass']);
    },
  },
  {
    name: 'skip_build is refused',
    files: { 'stack.yml': stack(fn('fn1', '    skip_build: true\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /skip_build is not supported/ },
  },
  {
    name: 'a field of the wrong shape',
    files: { 'stack.yml': stack(fn('fn1', '    environment:\n      - a=b\n')), ...handler },
    rejected: /functions\.fn1\.environment must be a mapping/,
  },
  {
    name: 'read-only root file system by default, writable on request; limits kept',
    files: {
      'stack.yml': stack(fn('fn1') + fn('fn2', '    readonly_root_filesystem: false\n    limits:\n      memory: 128Mi\n      cpu: 100m\n')),
      ...handler,
    },
    functions: ['alexellis-fn1', 'alexellis-fn2'],
    check: (source) => {
      expectEqual(
        source.functions.map((f) => f.readOnlyRootFilesystem),
        [true, false],
      );
      expectEqual(source.functions[1]!.limits, { memory: '128Mi', cpu: '100m' });
    },
  },
  {
    name: 'limits and requests over the operator ceilings (MAX_FUNCTION_MEMORY 1Gi, MAX_FUNCTION_CPU 2 by default)',
    files: {
      'stack.yml': stack(
        fn('greedy', '    limits:\n      memory: 16Gi\n      cpu: "64"\n') +
          fn('cores', '    limits:\n      cpu: 2500m\n') +
          fn('asks', '    requests:\n      memory: 2Gi\n') +
          fn('fits', '    limits:\n      memory: 1Gi\n      cpu: "2"\n'),
      ),
      ...handler,
    },
    functions: ['alexellis-fits'],
    functionRejections: {
      greedy: /^greedy: limits\.memory 16Gi is over MAX_FUNCTION_MEMORY 1Gi$/,
      cores: /^cores: limits\.cpu 2500m is over MAX_FUNCTION_CPU 2$/,
      asks: /^asks: requests\.memory 2Gi is over MAX_FUNCTION_MEMORY 1Gi$/,
    },
  },
  {
    name: 'limits within raised operator ceilings',
    files: { 'stack.yml': stack(fn('big', '    limits:\n      memory: 16Gi\n      cpu: "64"\n')), ...handler },
    config: { maxFunctionMemory: '16Gi', maxFunctionCpu: '64' },
    functions: ['alexellis-big'],
    check: (source) => expectEqual(source.functions[0]!.limits, { memory: '16Gi', cpu: '64' }),
  },
  {
    name: 'a CPU limit in memory units',
    files: { 'stack.yml': stack(fn('fn1', '    limits:\n      cpu: 1Gi\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /limits\.cpu "1Gi" is not a quantity like 100m or 1/ },
  },
  {
    name: 'a limit that is not a quantity',
    files: { 'stack.yml': stack(fn('fn1', '    limits:\n      memory: lots\n')), ...handler },
    functions: [],
    functionRejections: { fn1: /limits\.memory "lots" is not a quantity/ },
  },
  {
    name: 'build_options become ADDITIONAL_PACKAGE from template.yml',
    files: { 'stack.yml': stack(fn('fn1', '    build_options:\n      - dev\n')), ...handler },
    functions: ['alexellis-fn1'],
    check: (source) => expectEqual(source.functions[0]!.buildArgs, { ADDITIONAL_PACKAGE: 'make python3' }),
  },
  {
    name: 'YAML anchors and merge keys',
    files: {
      'stack.yml': stack(
        `${fn('fn1', '    environment: &env\n      a: "1"\n')}  fn2:\n    lang: node20\n    handler: ./fn1\n    image: fn2\n    environment:\n      <<: *env\n      b: "2"\n`,
      ),
      ...handler,
    },
    functions: ['alexellis-fn1', 'alexellis-fn2'],
    check: (source) => expectEqual(source.functions[1]!.environment, { a: '1', b: '2' }),
  },
  {
    name: 'configuration.copy puts shared files into every handler',
    files: {
      'stack.yml': stack(fn('fn1'), 'configuration:\n  copy:\n    - ./common\n    - VERSION\n'),
      ...handler,
      'common/util.js': 'exports.x = 1;\n',
      VERSION: '1.2.3\n',
    },
    functions: ['alexellis-fn1'],
  },
  {
    name: 'configuration.copy through a symlinked folder to /etc',
    files: { 'stack.yml': stack(fn('fn1'), 'configuration:\n  copy:\n    - link/passwd\n'), ...handler, link: { symlink: '/etc' } },
    functions: [],
    functionRejections: { fn1: /link\/passwd is a symlink to outside the repository/ },
  },
  {
    name: 'an environment_file reached through a symlinked folder',
    files: { 'stack.yml': stack(fn('fn1', '    environment_file:\n      - link/hostname\n')), ...handler, link: { symlink: '/etc' } },
    functions: [],
    functionRejections: { fn1: /environment_file link\/hostname is reached through a symlink to outside the repository/ },
  },
  {
    name: 'a template source whose URL parsers would disagree on the host',
    files: {
      'stack.yml': stack(
        fn('fn1'),
        'configuration:\n  templates:\n    - name: golang-middleware\n      source: "https://github.com\\\\@127.0.0.1:1/t.git"\n',
      ),
      ...handler,
    },
    rejected: /contains a backslash/,
  },
  {
    name: 'a template pulled from an allowed git host by configuration.templates',
    files: {
      'stack.yml': stack(
        fn('fn1').replace('node20', 'golang-middleware'),
        `configuration:\n  templates:\n    - name: golang-middleware\n      source: ${templateRepoUrl}\n`,
      ),
      ...handler,
    },
    functions: ['alexellis-fn1'],
    check: (source) => {
      if (source.functions[0]!.fprocess !== 'node index.js') throw new Error(`fprocess ${source.functions[0]!.fprocess}`);
    },
  },
  {
    name: 'a template source on a host outside GIT_ALLOWED_HOSTS',
    files: {
      'stack.yml': stack(fn('fn1'), `configuration:\n  templates:\n    - name: golang-middleware\n      source: ${forbiddenTemplateUrl}\n`),
      ...handler,
    },
    rejected: /is not in GIT_ALLOWED_HOSTS/,
  },
];

function expectEqual(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
