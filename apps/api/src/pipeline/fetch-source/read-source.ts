import { randomUUID } from 'node:crypto';
import { lstat, readFile, realpath, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import {
  environmentNameProblem,
  failureReason,
  functionLines,
  gitUrlProblem,
  isEnvironmentName,
  planFunction,
  repositoryPath,
  STACK_FILE_NAMES,
  stackFileProblem,
  statusDescription,
  type FunctionPlan,
  type FunctionRejection,
  type FunctionSpec,
  type PushReceived,
  type SecretRef,
  type SourceFetched,
  deployedSecretName,
  isSecretName,
} from '#domain';
import {
  ContextProblem,
  fetchCommit,
  FetchFailed,
  parseEnvironmentFile,
  parseStackFile,
  parseSecretsFile,
  sealedFingerprint,
  SECRETS_FILE_NAMES,
  MAX_SECRETS_FILE_BYTES,
  shrinkwrap,
  TemplateProblem,
  type Config,
  type ContextStore,
  type GitCredentials,
  type SealedSecretStore,
  type Template,
  type TemplateRegistry,
} from '#infra';

/** What reading a push's source came to: the functions to build, the push refused, or try again later. */
export type SourceOutcome =
  | Readonly<{ kind: 'fetched'; data: SourceFetched['data'] }>
  | Readonly<{ kind: 'rejected'; reason: string }>
  | Readonly<{ kind: 'retry'; reason: string }>;

export type SourceReader = Readonly<{
  config: Pick<
    Config,
    | 'dataDir'
    | 'gitAllowedHosts'
    | 'pushCloneHosts'
    | 'registry'
    | 'maxFunctionsPerRepo'
    | 'maxFunctionMemory'
    | 'maxFunctionCpu'
    | 'enableDockerfileLang'
    | 'source'
  >;
  credentials: GitCredentials;
  templates: TemplateRegistry;
  contexts: ContextStore;
  /** The key secrets.yml must be sealed to, and where the sealed values wait for the step that sets them. */
  sealed: Readonly<{ keyId: string; store: SealedSecretStore }>;
}>;

const MAX_STACK_FILE_BYTES = 512 * 1024;

class Rejected extends Error {}

/**
 * Step 2 of the pipeline: fetch exactly the pushed commit, read and check its stack file, and package each
 * function into a build context. Every refusal is a sentence for the commit status.
 */
export async function readSource(reader: SourceReader, push: PushReceived['data'], signal?: AbortSignal): Promise<SourceOutcome> {
  const workDir = join(reader.config.dataDir, 'work', randomUUID());
  try {
    const data = await fetchAndPackage(reader, push, workDir, signal);
    return { kind: 'fetched', data };
  } catch (error) {
    if (error instanceof Rejected || error instanceof TemplateProblem)
      return { kind: 'rejected', reason: statusDescription(error.message) };
    if (error instanceof FetchFailed)
      return error.retryable ? { kind: 'retry', reason: error.message } : { kind: 'rejected', reason: statusDescription(error.message) };
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function fetchAndPackage(
  reader: SourceReader,
  push: PushReceived['data'],
  workDir: string,
  signal?: AbortSignal,
): Promise<SourceFetched['data']> {
  const { config } = reader;
  const problem = gitUrlProblem(push.cloneUrl, [...config.gitAllowedHosts, ...config.pushCloneHosts]);
  if (problem) throw new Rejected(`clone URL ${problem}`);
  // git gets the URL as we parsed it, never the raw text: parsers disagree on oddities like backslashes.
  const cloneUrl = new URL(push.cloneUrl).href;
  const token = push.private ? await reader.credentials.tokenFor(push.installationId) : null;
  if (push.private && token === null) throw new Rejected('private repository: configure GITHUB_TOKEN or a GitHub App to fetch it');

  const repoDir = join(workDir, 'repo');
  await fetchCommit({
    url: cloneUrl,
    sha: push.sha,
    dir: repoDir,
    token,
    signal,
    limits: { timeoutMs: config.source.fetchTimeoutMs, maxFiles: config.source.maxRepoFiles, maxBytes: config.source.maxRepoBytes },
  });

  const stackFile = await findStackFile(repoDir);
  if ((await lstat(join(repoDir, 'template')).catch(() => null)) !== null) {
    throw new Rejected('unsupported custom "templates" folder: remove template/ and name templates in configuration.templates');
  }
  const stackText = await readFile(join(repoDir, stackFile), 'utf8');
  const parsed = parseStackFile(stackText, stackFile);
  if (!parsed.ok) throw new Rejected(parsed.reason);
  const stack = parsed.stack;
  const policy = {
    owner: push.owner,
    repo: push.repo,
    branch: push.branch,
    preview: push.preview === true,
    sha: push.sha,
    registry: config.registry,
    maxFunctions: config.maxFunctionsPerRepo,
    enableDockerfileLang: config.enableDockerfileLang,
    maxFunctionMemory: config.maxFunctionMemory,
    maxFunctionCpu: config.maxFunctionCpu,
    // The operator's hosts only: the loopback allowance is for the push's own clone URL, not for what it names.
    gitAllowedHosts: config.gitAllowedHosts,
  };
  const stackProblem = stackFileProblem(stack, stackFile, policy);
  if (stackProblem) throw new Rejected(stackProblem);
  const secrets = await readSecretsFile(reader, repoDir, push.owner);
  // Template sources are public: the push's token must never travel to a URL a stack file chose.
  const templates = await reader.templates.resolve(stack.configuration.templates, null);
  const languages = new Set(templates.keys());

  const functions: FunctionSpec[] = [];
  const rejected: FunctionRejection[] = [];
  for (const fn of stack.functions) {
    const verdict = planFunction(fn, policy, languages);
    if (!verdict.ok) {
      rejected.push(verdict.rejection);
      continue;
    }
    const plan = verdict.plan;
    try {
      functions.push(
        await packageFunction(
          reader,
          repoDir,
          plan,
          plan.lang === 'dockerfile' ? null : templates.get(plan.lang)!,
          stack.configuration.copy,
        ),
      );
    } catch (error) {
      if (!(error instanceof Rejected) && !(error instanceof ContextProblem)) throw error;
      rejected.push({ function: plan.function, name: plan.name, reason: failureReason(`${plan.function}: ${error.message}`) });
    }
  }
  return {
    deliveryId: push.deliveryId,
    owner: push.owner,
    repo: push.repo,
    branch: push.branch,
    sha: push.sha,
    stackFile,
    functions,
    rejected,
    lines: functionLines(
      stackText,
      stack.functions.map((fn) => fn.key),
    ),
    ...(secrets.length > 0 ? { secrets } : {}),
  };
}

/**
 * The commit's secrets.yml, checked whole before anything of the push runs: sealed to this server's key, valid
 * names, sizes within bounds. The sealed values are stored by fingerprint; the push records only names and
 * fingerprints, and the values are opened by the step that sets them on the gateway.
 */
async function readSecretsFile(reader: SourceReader, repoDir: string, owner: string): Promise<SecretRef[]> {
  for (const name of SECRETS_FILE_NAMES) {
    const info = await lstat(join(repoDir, name)).catch(() => null);
    if (info === null) continue;
    if (!info.isFile()) throw new Rejected(`${name} must be a regular file, not a symlink or folder`);
    if (info.size > MAX_SECRETS_FILE_BYTES) throw new Rejected(`${name} is over ${MAX_SECRETS_FILE_BYTES / 1024} KB`);
    const parsed = parseSecretsFile(await readFile(join(repoDir, name), 'utf8'), name, reader.sealed.keyId);
    if (!parsed.ok) throw new Rejected(parsed.reason);
    const refs: SecretRef[] = [];
    for (const secret of parsed.file.secrets) {
      const deployed = deployedSecretName(owner, secret.name);
      if (!isSecretName(deployed)) throw new Rejected(`${name}: secret ${secret.name} as ${deployed} is not a valid secret name`);
      const fingerprint = sealedFingerprint(parsed.file.keyId, secret.sealed);
      await reader.sealed.store.put(fingerprint, secret.sealed);
      refs.push({ name: secret.name, secret: deployed, fingerprint });
    }
    return refs;
  }
  return [];
}

async function findStackFile(repoDir: string): Promise<string> {
  for (const name of STACK_FILE_NAMES) {
    const info = await lstat(join(repoDir, name)).catch(() => null);
    if (info === null) continue;
    if (!info.isFile()) throw new Rejected(`${name} must be a regular file, not a symlink or folder`);
    if (info.size > MAX_STACK_FILE_BYTES)
      throw new Rejected(`${name} is ${Math.round(info.size / 1024)} KB; the limit is ${MAX_STACK_FILE_BYTES / 1024} KB`);
    return name;
  }
  throw new Rejected('no stack.yml or stack.yaml at the root of the repository');
}

async function packageFunction(
  reader: SourceReader,
  repoDir: string,
  plan: FunctionPlan,
  template: Template | null,
  copy: readonly string[],
): Promise<FunctionSpec> {
  const environment = { ...plan.environment };
  for (const file of plan.environmentFiles) Object.assign(environment, await readEnvironmentFile(repoDir, file));
  const badName = Object.keys(environment).find((name) => !isEnvironmentName(name));
  if (badName !== undefined) throw new Rejected(environmentNameProblem(badName));
  const buildArgs = { ...plan.buildArgs };
  if (plan.buildOptions.length > 0) {
    const packages = plan.buildOptions.map((option) => {
      const found = template?.buildOptions.get(option);
      if (!found) throw new Rejected(`build_options "${option.slice(0, 40)}" is not offered by template ${plan.lang}`);
      return found.join(' ');
    });
    buildArgs.ADDITIONAL_PACKAGE = [buildArgs.ADDITIONAL_PACKAGE, ...packages].filter(Boolean).join(' ');
  }
  const context = await shrinkwrap({
    repoDir,
    handler: plan.handler,
    template,
    copy: copy.map((path) => repositoryPath(path)!),
    buildArgs,
    limits: { maxBytes: reader.config.source.maxContextBytes, maxFiles: reader.config.source.maxRepoFiles },
  });
  await reader.contexts.put(context.digest, context.archive);
  const { environmentFiles: _files, buildOptions: _options, ...spec } = plan;
  return {
    ...spec,
    environment,
    buildArgs,
    fprocess: plan.fprocess ?? template?.fprocess ?? null,
    contextDigest: context.digest,
    contextBytes: context.bytes,
  };
}

async function readEnvironmentFile(repoDir: string, file: string): Promise<Record<string, string>> {
  const path = join(repoDir, file);
  const info = await lstat(path).catch(() => null);
  if (info === null) throw new Rejected(`environment_file ${file} does not exist`);
  if (!info.isFile()) throw new Rejected(`environment_file ${file} must be a regular file, not a symlink or folder`);
  // lstat only looks at the last step; a linked folder on the way must not lead out of the repository either.
  const root = await realpath(repoDir);
  const real = await realpath(path);
  if (!real.startsWith(`${root}${sep}`))
    throw new Rejected(`environment_file ${file} is reached through a symlink to outside the repository`);
  if (info.size > MAX_STACK_FILE_BYTES) throw new Rejected(`environment_file ${file} is too large`);
  const parsed = parseEnvironmentFile(await readFile(path, 'utf8'), file);
  if (!parsed.ok) throw new Rejected(parsed.reason);
  return parsed.environment;
}
