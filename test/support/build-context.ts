import { shrinkwrap, TemplateRegistry, type BuildContext, type Builder, type BuildRequest } from '#infra';

/**
 * Packages the `handler` folder of `repoDir` with the builtin template `lang` found under `templateRoot` (none for
 * `dockerfile`), as a push does; the registry caches into `cacheDir`.
 */
export async function packageHandler(input: {
  repoDir: string;
  templateRoot: string;
  cacheDir: string;
  handler?: string;
  lang?: string;
  maxBytes?: number;
}): Promise<BuildContext> {
  const lang = input.lang ?? 'node20';
  const template =
    lang === 'dockerfile'
      ? null
      : (
          await new TemplateRegistry({
            roots: [input.templateRoot],
            cacheDir: input.cacheDir,
            gitAllowedHosts: [],
            fetchTimeoutMs: 1000,
          }).builtins()
        ).get(lang)!;
  return shrinkwrap({
    repoDir: input.repoDir,
    handler: input.handler ?? 'fn',
    template,
    copy: [],
    buildArgs: {},
    limits: { maxBytes: input.maxBytes ?? 1e7, maxFiles: 1000 },
  });
}

/** A build request for a packaged context: a node20 build with no build args or context URL unless `fields` says. */
export const buildRequestFor = (
  context: BuildContext,
  fields: Pick<BuildRequest, 'buildId' | 'owner' | 'name' | 'image'> & Partial<BuildRequest>,
): BuildRequest => ({
  lang: 'node20',
  contextDigest: context.digest,
  archive: context.archive,
  buildArgs: {},
  contextUrl: '',
  ...fields,
});

/** Runs one build to its end, its log discarded, never cancelled. */
export const buildToEnd = (builder: Builder, request: BuildRequest) =>
  builder.build(request, () => undefined, new AbortController().signal);
