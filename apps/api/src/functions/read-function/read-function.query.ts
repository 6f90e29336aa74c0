export class ReadFunctionQuery {
  constructor(readonly name: string) {}
}
