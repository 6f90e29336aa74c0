import { ApiProperty } from '@nestjs/swagger';
import { EventDto } from '../../audit/event.dto.js';

/** Why a function is at its SHA: the causation chain from its current FunctionDeployed back to the push. */
export class ProvenanceDto {
  @ApiProperty({ example: 'alexellis-fn1' }) name!: string;
  @ApiProperty({ description: 'The commit deployed' }) sha!: string;
  @ApiProperty({ description: 'The webhook delivery of the push that deployed it' }) deliveryId!: string;
  @ApiProperty({
    type: [EventDto],
    description: 'FunctionDeployed first, each event followed by its cause, ending at the PushReceived of the delivery',
  })
  chain!: EventDto[];
}
