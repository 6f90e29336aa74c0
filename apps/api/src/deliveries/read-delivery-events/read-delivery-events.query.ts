export class ReadDeliveryEventsQuery {
  constructor(
    readonly deliveryId: string,
    readonly afterPosition: number,
  ) {}
}
