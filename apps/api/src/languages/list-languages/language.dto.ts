import { ApiProperty } from '@nestjs/swagger';

/** One language a stack file may name in `lang`. */
export class LanguageDto {
  @ApiProperty({ description: 'The `lang` of a stack file', example: 'node20' }) name!: string;
  @ApiProperty({ description: 'Classic watchdog: the handler reads the request on stdin and writes the answer to stdout' })
  classic!: boolean;
  @ApiProperty({ description: 'The templates folder it is built from (a family shares one: node18, node20, node22)', example: 'node-http' })
  template!: string;
}

export class LanguageList {
  @ApiProperty({ type: [LanguageDto] }) items!: LanguageDto[];
}
