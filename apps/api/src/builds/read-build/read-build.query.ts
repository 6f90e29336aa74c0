export class ReadBuildQuery {
  constructor(readonly id: string) {}
}
