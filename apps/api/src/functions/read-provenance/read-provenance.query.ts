export class ReadProvenanceQuery {
  constructor(readonly name: string) {}
}
