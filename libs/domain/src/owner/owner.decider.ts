import type { Command, Decider } from '../decider.js';
import type { OwnerEvent, SecretRef, SecretSet } from '../events.js';
import { deployedSecretName } from '../naming.js';

/**
 * One owner's stream: the API tokens issued to it and the secrets it manages. Neither a token (nor its hash) nor a
 * secret's value ever enters the stream: the events say which token id, which secret name and which fingerprint of
 * the sealed value, and the envelope who acted.
 */
export type OwnerCommand =
  | Command<'IssueOwnerToken', { owner: string; tokenId: string }>
  | Command<'RevokeOwnerToken', { owner: string; tokenId: string }>
  | Command<
      'SetSecret',
      {
        owner: string;
        name: string;
        fingerprint: string;
        source: 'push' | 'api';
        deliveryId: string | null;
        at: string;
        /** Whether the gateway has the secret now: one removed behind faasline's back is set again. */
        onGateway: boolean;
      }
    >
  | Command<'DeleteSecret', { owner: string; name: string }>;

export type ManagedSecret = SecretRef & Readonly<{ updatedAt: string; source: 'push' | 'api' }>;

export type OwnerState = Readonly<{
  /** Token ids ever issued, and whether each still opens the API. */
  tokens: ReadonlyMap<string, 'active' | 'revoked'>;
  /** The secrets on the gateway by their name in stack files. */
  secrets: ReadonlyMap<string, ManagedSecret>;
}>;

export const initialState = (): OwnerState => ({ tokens: new Map(), secrets: new Map() });

export function evolve(state: OwnerState, event: OwnerEvent): OwnerState {
  switch (event.type) {
    case 'OwnerTokenIssued':
      return { ...state, tokens: new Map(state.tokens).set(event.data.tokenId, 'active') };
    case 'OwnerTokenRevoked':
      return { ...state, tokens: new Map(state.tokens).set(event.data.tokenId, 'revoked') };
    case 'SecretSet': {
      const { name, secret, fingerprint, updatedAt, source } = event.data;
      return { ...state, secrets: new Map(state.secrets).set(name, { name, secret, fingerprint, updatedAt, source }) };
    }
    case 'SecretDeleted': {
      const secrets = new Map(state.secrets);
      secrets.delete(event.data.name);
      return { ...state, secrets };
    }
  }
}

export function decide(command: OwnerCommand, state: OwnerState): OwnerEvent[] {
  switch (command.type) {
    case 'IssueOwnerToken':
      // A retried issuance of the same id records it once.
      return state.tokens.has(command.data.tokenId) ? [] : [{ type: 'OwnerTokenIssued', data: command.data }];
    case 'RevokeOwnerToken':
      // Revoking twice, or a token this owner never had, changes nothing.
      return state.tokens.get(command.data.tokenId) === 'active' ? [{ type: 'OwnerTokenRevoked', data: command.data }] : [];
    case 'SetSecret': {
      const { owner, name, fingerprint, source, deliveryId, at, onGateway } = command.data;
      // The same sealed value again (every push of an unchanged secrets.yml) touches nothing.
      if (onGateway && state.secrets.get(name)?.fingerprint === fingerprint) return [];
      const data: SecretSet['data'] = {
        owner,
        name,
        secret: deployedSecretName(owner, name),
        fingerprint,
        source,
        deliveryId,
        updatedAt: at,
      };
      return [{ type: 'SecretSet', data }];
    }
    case 'DeleteSecret': {
      const known = state.secrets.get(command.data.name);
      return known ? [{ type: 'SecretDeleted', data: { owner: command.data.owner, name: known.name, secret: known.secret } }] : [];
    }
  }
}

export const ownerDecider: Decider<OwnerCommand, OwnerEvent, OwnerState> = { decide, evolve, initialState };
