export * from './events.js';
export * from './decider.js';
export * from './upcasters.js';
export * from './spec.js';
export * from './naming.js';
export {
  installationDecider,
  type InstallationCommand,
  type InstallationEvent,
  type InstallationState,
} from './installation/installation.decider.js';
