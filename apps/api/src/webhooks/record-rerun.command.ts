import type { RerunRequest } from '#domain';

/** `check_run.rerequested`: the re-run button of a check run this App created. */
export class RecordRerunCommand {
  constructor(readonly request: Omit<RerunRequest, 'appId'>) {}
}
