export class ReadReplayQuery {
  constructor(readonly id: string) {}
}
