export * from './events.js';
export * from './decider.js';
export * from './upcasters.js';
export * from './spec.js';
export * from './naming.js';
export {
  installationDecider,
  type InstallationCommand,
  type InstallationEvent,
  type InstallationState,
} from './installation/installation.decider.js';
export * from './stack-file/stack-file.js';
export * from './stack-file/stack-file.rules.js';
export * from './stack-file/resource-quantities.js';
export * from './git-hosts.js';
export {
  pushIdempotencyKey,
  repositoryDecider,
  type PushDelivery,
  type PushPolicy,
  type RepositoryCommand,
  type RepositoryEvent,
  type RepositoryState,
} from './repository/repository.decider.js';
export {
  functionDecider,
  functionEventTypes,
  type FunctionCommand,
  type FunctionEvent,
  type FunctionState,
} from './function/function.decider.js';
export * from './pipeline/pipeline.process.js';
export * from './pipeline/deployment.js';
