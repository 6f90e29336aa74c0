import { logModes } from './support/backbones.js';
import { eventLogContract } from './event-log.contract.js';

eventLogContract(logModes[0]!);
