import type { InstallationCommand } from '#domain';

export class RecordInstallationChangeCommand {
  constructor(
    readonly deliveryId: string,
    readonly sender: string,
    readonly change: InstallationCommand,
  ) {}
}
