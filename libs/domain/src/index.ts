export * from './events.js';
export * from './decider.js';
export * from './upcasters.js';
export * from './naming.js';
export { installationDecider, type InstallationCommand } from './installation/installation.decider.js';
export * from './stack-file/stack-file.js';
export * from './stack-file/stack-file.rules.js';
export * from './stack-file/resource-quantities.js';
export * from './git-hosts.js';
export {
  isBranchDeletion,
  newestPushOn,
  pushIdempotencyKey,
  repositoryDecider,
  repositorySnapshots,
  rerunIdempotencyKey,
  type RerunRequest,
  type PushDelivery,
  type PushPolicy,
  type RepositoryCommand,
} from './repository/repository.decider.js';
export {
  functionDecider,
  functionSnapshots,
  gatewayRefusal,
  isRunning,
  runsImage,
  rollbackTarget,
  type BuildRecord,
  type DeployTarget,
  type FunctionCommand,
  type FunctionState,
  type RollbackTo,
} from './function/function.decider.js';
export {
  fairShareGroup,
  isPipelineEvent,
  ownerShare,
  pipelineWorkflow,
  STACK_CONTEXT,
  type PipelineCommand,
  type PipelineCommandOf,
  type PipelineEvent,
  type PreviewsListed,
  type PushState,
} from './pipeline/pipeline.workflow.js';
export * from './pipeline/deployment.js';
export { failedFunctions, nothingToBuild, type FunctionFailure, type OutcomeText } from './pipeline/push-outcome.js';
export {
  CHECK_RUN_NAME,
  checkRunWorkflow,
  isCheckRunInput,
  MAX_ANNOTATIONS_PER_REQUEST,
  MAX_CHECK_SUMMARY,
  type CheckRunAnnotation,
  type CheckRunInput,
  type CheckRunState,
  type ReportCheckRun,
} from './checks/check-run.workflow.js';
export { functionLines } from './checks/stack-lines.js';
export { ownerDecider, type ManagedSecret, type OwnerCommand, type OwnerState } from './owner/owner.decider.js';
export { secretClaimProblem, type SecretClaimant } from './owner/secret-claims.js';
export * from './pipeline/deploy-failure.js';
export * from './function/call-timeouts.js';
export * from './function/scale-to-zero.js';
export * from './preview/preview.rules.js';
export * from './pipeline/readiness.js';
