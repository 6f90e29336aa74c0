import type { FunctionRejection, FunctionSpec } from '../events.js';
import {
  deployedSecretName,
  failureReason,
  functionName,
  functionNameProblem,
  imageRef,
  isEnvironmentName,
  isSecretName,
  listedFunctionName,
} from '../naming.js';
import { canonicalHost, isAllowedHost } from '../git-hosts.js';
import { previewFunctionName } from '../preview/preview.rules.js';
import { cpuQuantityCores, memoryQuantityBytes } from './resource-quantities.js';
import { PROVIDER_NAMES, repositoryPath, type StackFile, type StackFunction } from './stack-file.js';

/** What the server allows and what the push is: everything the rules need besides the file itself. */
export type StackPolicy = Readonly<{
  owner: string;
  repo: string;
  branch: string;
  /** A branch preview: its functions are named `<owner>-<fn>-<branch slug>`. */
  preview?: boolean;
  sha: string;
  registry: string;
  maxFunctions: number;
  enableDockerfileLang: boolean;
  gitAllowedHosts: readonly string[];
  /** The operator's ceilings on what one function may ask for, as written (MAX_FUNCTION_MEMORY, MAX_FUNCTION_CPU). */
  maxFunctionMemory: string;
  maxFunctionCpu: string;
}>;

/** A function that passed every rule that needs no file system; the source step fills in the rest. */
export type FunctionPlan = Omit<FunctionSpec, 'contextDigest' | 'contextBytes'> &
  Readonly<{ environmentFiles: readonly string[]; buildOptions: readonly string[] }>;

export type FunctionVerdict = Readonly<{ ok: true; plan: FunctionPlan }> | Readonly<{ ok: false; rejection: FunctionRejection }>;

/** OpenFaaS Cloud's annotation allow-list: anything else could steer the platform (ingress, profiles, …). */
export const USER_ANNOTATIONS = ['topic', 'schedule', 'com.openfaas.health.http.path', 'com.openfaas.health.http.initialDelay'] as const;

/** Labels faasline writes itself; a user-set one would let a repo claim another owner's functions. */
const RESERVED_LABEL_PREFIX = 'com.openfaas.cloud.';

/** Kubernetes label syntax: an optional DNS prefix, a name and a value of at most 63 characters each. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** Problems that stop the whole push: the stack file as a whole is unusable. */
export function stackFileProblem(stack: StackFile, fileName: string, policy: StackPolicy): string | null {
  if (!(PROVIDER_NAMES as readonly string[]).includes(stack.provider.name)) {
    return `${fileName}: provider.name must be "openfaas", not "${stack.provider.name.slice(0, 40)}"`;
  }
  if (stack.version !== null && stack.version !== '1.0') return `${fileName}: version must be "1.0", not "${stack.version.slice(0, 20)}"`;
  if (stack.functions.length === 0) return `${fileName} declares no functions`;
  if (stack.functions.length > policy.maxFunctions) {
    return `${fileName} declares ${stack.functions.length} functions; the limit is ${policy.maxFunctions} (MAX_FUNCTIONS_PER_REPO)`;
  }
  for (const template of stack.configuration.templates) {
    if (!TEMPLATE_NAME.test(template.name)) return `${fileName}: template name "${template.name.slice(0, 40)}" is not valid`;
    if (template.source !== null) {
      const problem = templateSourceProblem(template.source, policy.gitAllowedHosts);
      if (problem) return `${fileName}: template ${template.name}: ${problem}`;
    }
  }
  for (const path of stack.configuration.copy) {
    if (repositoryPath(path) === null) return `${fileName}: configuration.copy path "${path.slice(0, 60)}" points outside the repository`;
  }
  return null;
}

/** Why a git template source may not be fetched, or null: a plain http(s) URL to an allowed host, `#ref` optional. */
export function templateSourceProblem(source: string, allowedHosts: readonly string[]): string | null {
  const ref = /#(.*)$/.exec(source)?.[1];
  // A ref reaches git's command line: only names git itself would accept, never anything that reads as an option.
  if (ref !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/.test(ref))
    return `ref "${ref.slice(0, 40)}" is not a branch, tag or commit name`;
  const problem = gitUrlProblem(source.replace(/#.*$/, ''), allowedHosts);
  return problem && `source ${problem}`;
}

/**
 * Why a git URL may not be fetched, or null: http(s) only, no credentials, no characters that URL parsers
 * disagree on (a backslash makes Node and curl see different hosts), and an allowed host.
 */
export function gitUrlProblem(text: string, allowedHosts: readonly string[]): string | null {
  const shown = `"${text.slice(0, 60)}"`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\\\s\x00-\x1f]/.test(text)) return `${shown} contains a backslash, space or control character`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${shown} is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${shown} must be an http(s) git URL`;
  if (url.username !== '' || url.password !== '') return `${shown} must not carry credentials`;
  return isAllowedHost(url, allowedHosts)
    ? null
    : `host ${canonicalHost(url.hostname)}${url.port ? `:${url.port}` : ''} is not in GIT_ALLOWED_HOSTS`;
}

/**
 * The per-function rules of OpenFaaS Cloud, with its gaps closed. A broken function fails alone, with a reason
 * the user sees on its commit status; its siblings still deploy.
 */
export function planFunction(fn: StackFunction, policy: StackPolicy, languages: ReadonlySet<string>): FunctionVerdict {
  const name = policy.preview ? previewFunctionName(policy.owner, fn.key, policy.branch) : functionName(policy.owner, fn.key);
  // The whole reason: the function's commit status cuts it to 140 characters, the read model shows all of it.
  const reject = (reason: string): FunctionVerdict => ({
    ok: false,
    rejection: { function: fn.key, name: listedFunctionName(policy.owner, fn.key), reason: failureReason(`${fn.key}: ${reason}`) },
  });
  const nameProblem = functionNameProblem(name);
  if (nameProblem) return reject(nameProblem);
  const lang = fn.lang.toLowerCase();
  if (lang === '') return reject('lang is missing');
  if (lang === 'dockerfile' && !policy.enableDockerfileLang)
    return reject('lang dockerfile is disabled on this server (ENABLE_DOCKERFILE_LANG)');
  if (lang !== 'dockerfile' && !languages.has(lang)) return reject(unknownLanguage(fn.lang, languages, policy.enableDockerfileLang));
  if (fn.handler === '') return reject('handler is missing');
  const handler = repositoryPath(fn.handler);
  if (handler === null) return reject(`handler "${fn.handler.slice(0, 60)}" must be a folder inside the repository`);
  if (fn.image === '') return reject('image is missing');
  if (!/^[a-z0-9]([a-z0-9._/:@-]*[a-zA-Z0-9_])?$/i.test(fn.image))
    return reject(`image "${fn.image.slice(0, 60)}" is not a valid image name`);
  if (fn.skipBuild) return reject('skip_build is not supported: every function is built from its handler');
  const environmentFiles: string[] = [];
  for (const file of fn.environmentFiles) {
    const path = repositoryPath(file);
    if (path === null) return reject(`environment_file "${file.slice(0, 60)}" points outside the repository`);
    environmentFiles.push(path);
  }
  const badEnv = Object.keys(fn.environment).find((key) => !isEnvironmentName(key));
  if (badEnv !== undefined) return reject(environmentNameProblem(badEnv));
  const badSecret = fn.secrets.find((secret) => !isSecretName(secret) || !isSecretName(deployedSecretName(policy.owner, secret)));
  if (badSecret !== undefined) return reject(`secret name "${badSecret.slice(0, 60)}" must be lower-case letters, digits, "-" and "."`);
  const reserved = Object.keys(fn.labels).find((key) => key.startsWith(RESERVED_LABEL_PREFIX));
  if (reserved !== undefined) return reject(`label "${reserved.slice(0, 60)}" is reserved for faasline`);
  const badLabel = Object.entries(fn.labels).find(([key, value]) => !LABEL_KEY.test(key) || !LABEL_VALUE.test(value));
  if (badLabel !== undefined)
    return reject(
      `label ${badLabel[0].slice(0, 50)}: "${badLabel[1].slice(0, 30)}" is not a Kubernetes label (63 chars of letters, digits, ".", "_", "-")`,
    );
  const badBuildArg = Object.keys(fn.buildArgs).find((key) => !isEnvironmentName(key));
  if (badBuildArg !== undefined) return reject(`build_args name "${badBuildArg.slice(0, 60)}" is not valid`);
  const resourceProblem = resourceQuantitiesProblem(fn, policy);
  if (resourceProblem) return reject(resourceProblem);
  return {
    ok: true,
    plan: {
      function: fn.key,
      name,
      lang,
      handler,
      image: imageRef({
        registry: policy.registry,
        owner: policy.owner,
        repo: policy.repo,
        image: fn.image,
        branch: policy.branch,
        sha: policy.sha,
      }),
      fprocess: fn.fprocess,
      buildArgs: fn.buildArgs,
      buildOptions: fn.buildOptions,
      environment: fn.environment,
      environmentFiles,
      labels: fn.labels,
      annotations: Object.fromEntries(
        Object.entries(fn.annotations).filter(([key]) => (USER_ANNOTATIONS as readonly string[]).includes(key)),
      ),
      secrets: fn.secrets.map((secret) => deployedSecretName(policy.owner, secret)),
      limits: fn.limits,
      requests: fn.requests,
      // OpenFaaS Cloud's default: a function writes only to /tmp unless its stack file says otherwise.
      readOnlyRootFilesystem: fn.readonlyRootFilesystem ?? true,
      constraints: fn.constraints,
    },
  };
}

/**
 * Why a function's limits or requests may not be deployed, or null. The tenant's numbers become the sandbox's
 * cgroup, tmpfs and CPU quota (or the pod's), so a ceiling left to the stack file is no ceiling; an unreadable
 * quantity is refused too, since each gateway would make something different of it.
 */
function resourceQuantitiesProblem(fn: StackFunction, policy: StackPolicy): string | null {
  // A ceiling that does not parse (config validation keeps this from happening) lets nothing through.
  const memoryCeiling = memoryQuantityBytes(policy.maxFunctionMemory) ?? 0;
  const cpuCeiling = cpuQuantityCores(policy.maxFunctionCpu) ?? 0;
  for (const [kind, quantities] of [
    ['limits', fn.limits],
    ['requests', fn.requests],
  ] as const) {
    const { memory, cpu } = quantities;
    if (memory !== undefined) {
      const bytes = memoryQuantityBytes(memory);
      if (bytes === null) return `${kind}.memory "${memory.slice(0, 30)}" is not a quantity like 128Mi or 1Gi`;
      if (bytes > memoryCeiling) return `${kind}.memory ${memory.slice(0, 30)} is over MAX_FUNCTION_MEMORY ${policy.maxFunctionMemory}`;
    }
    if (cpu !== undefined) {
      const cores = cpuQuantityCores(cpu);
      if (cores === null) return `${kind}.cpu "${cpu.slice(0, 30)}" is not a quantity like 100m or 1`;
      if (cores > cpuCeiling) return `${kind}.cpu ${cpu.slice(0, 30)} is over MAX_FUNCTION_CPU ${policy.maxFunctionCpu}`;
    }
  }
  return null;
}

/** An unknown `lang`, with the languages this server builds (its templates and the stack file's), sorted. */
export function unknownLanguage(lang: string, languages: ReadonlySet<string>, enableDockerfileLang: boolean): string {
  const available = [...languages, ...(enableDockerfileLang ? ['dockerfile'] : [])].sort();
  return `unknown language "${lang.slice(0, 40)}" (available: ${available.length > 0 ? available.join(', ') : 'none'})`;
}

export const environmentNameProblem = (name: string) =>
  `environment variable name "${name.slice(0, 60)}" must be letters, digits, "_", "-" or ".", not starting with a digit`;
