import { fold, ownerDecider, secretClaimProblem, streamIds, deployedSecretName, type ManagedSecret, type SecretClaimant } from '#domain';
import { handleCommand, type CausationMetadata, type EventStore, type GatewayClient, type SecretHoldersReadModel } from '#infra';

export type SetSecret = SecretClaimant &
  Readonly<{ name: string; value: Buffer; fingerprint: string; source: 'push' | 'api'; deliveryId: string | null; at: string }>;

/** The secret names the platform deploys itself. */
export const reservedSecrets = (config: Readonly<{ registryPullSecret: string | null }>): readonly string[] =>
  config.registryPullSecret === null ? [] : [config.registryPullSecret];

export class SecretRefused extends Error {
  override readonly name = 'SecretRefused';
}

/**
 * An owner's secrets on the gateway, carried out as the owner stream decides: set on the gateway first, recorded
 * second (a crash in between sets it again on the next try), and only under a name the owner may take. The value
 * goes to the gateway and nowhere else.
 */
export class OwnerSecrets {
  constructor(
    private readonly store: EventStore,
    private readonly holders: SecretHoldersReadModel,
    private readonly gateway: GatewayClient | null,
    /** REGISTRY_PULL_SECRET: named in every deployment, so no owner's secret may take its name. */
    private readonly reserved: readonly string[] = [],
  ) {}

  /** Checks that the owner may take the name (throws SecretRefused), then sets it; false when it was already so. */
  async set(secret: SetSecret, metadata: CausationMetadata, onGateway?: ReadonlySet<string>): Promise<boolean> {
    const gateway = this.requireGateway();
    const deployed = deployedSecretName(secret.owner, secret.name);
    const problem = secretClaimProblem(deployed, secret, await this.holders.holderOf(deployed), await gateway.list(), this.reserved);
    if (problem) throw new SecretRefused(problem);
    const present = (onGateway ?? (await gateway.secretNames())).has(deployed);
    const { result } = await handleCommand(
      this.store,
      ownerDecider,
      streamIds.owner(secret.owner),
      {
        type: 'SetSecret',
        data: {
          owner: secret.owner,
          name: secret.name,
          fingerprint: secret.fingerprint,
          source: secret.source,
          deliveryId: secret.deliveryId,
          at: secret.at,
          onGateway: present,
        },
      },
      metadata,
      { act: async () => void (await gateway.setSecret(deployed, secret.value)) },
    );
    return result !== null;
  }

  /** Removes a secret the owner set through faasline; false when there is none of that name. */
  async remove(owner: string, name: string, metadata: CausationMetadata): Promise<boolean> {
    const gateway = this.requireGateway();
    const { result } = await handleCommand(
      this.store,
      ownerDecider,
      streamIds.owner(owner),
      { type: 'DeleteSecret', data: { owner, name } },
      metadata,
      {
        act: async (decided) => {
          for (const event of decided) if (event.type === 'SecretDeleted') await gateway.removeSecret(event.data.secret);
        },
      },
    );
    return result !== null;
  }

  async list(owner: string): Promise<ManagedSecret[]> {
    const { events } = await this.store.readStream(streamIds.owner(owner));
    return [...fold(ownerDecider, events).secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private requireGateway(): GatewayClient {
    if (!this.gateway) throw new SecretRefused('no OpenFaaS gateway to keep secrets on: set OPENFAAS_URL');
    return this.gateway;
  }
}
