import type {
  Backbone,
  Builder,
  BuildLogStore,
  CheckRunReporter,
  CommitStatusReporter,
  Config,
  ContextStore,
  GatewayClient,
  Logger,
} from '#infra';
import type { Links } from '../links/signed-links.js';

/** What the build, deploy, report and clean-up steps act through: one object, wired once in the pipeline module. */
export type PipelineParts = Readonly<{
  config: Config;
  builder: Builder;
  logs: BuildLogStore;
  contexts: ContextStore;
  /** null until a gateway is configured (OPENFAAS_URL) or the embedded one runs. */
  gateway: GatewayClient | null;
  reporter: CommitStatusReporter;
  /** GitHub Checks: enabled only as a GitHub App (the Checks API takes installation tokens only). */
  checks: CheckRunReporter;
  links: Links;
}>;

/**
 * What every pipeline step is constructed with, provided once by the pipeline module so a step injects one thing.
 * `serving` settles once this process listens: a build hands BuildKit a context URL this process may be the one
 * to answer, so steps take no job before then.
 */
export type StepContext = Readonly<{ backbone: Backbone; logger: Logger; parts: PipelineParts; serving: Promise<void> }>;
