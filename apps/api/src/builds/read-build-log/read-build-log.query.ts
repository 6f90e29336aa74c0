export class ReadBuildLogQuery {
  constructor(readonly buildId: string) {}
}
