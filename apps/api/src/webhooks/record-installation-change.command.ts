import type { InstallationCommand } from '#domain';

export class RecordInstallationChangeCommand {
  constructor(
    readonly deliveryId: string,
    /** sha256 (hex) of the signed body: one body is one change, whatever delivery id it comes under. */
    readonly bodySha256: string,
    readonly sender: string,
    readonly change: InstallationCommand,
  ) {}
}
