import { z } from 'zod';

/** One language a stack file may name in `lang`. */
export const LanguageDto = z
  .object({
    name: z.string().meta({ description: 'The `lang` of a stack file', example: 'node20' }),
    classic: z.boolean().describe('Classic watchdog: the handler reads the request on stdin and writes the answer to stdout'),
    template: z.string().meta({
      description: 'The templates folder it is built from (a family shares one: node18, node20, node22)',
      example: 'node-http',
    }),
  })
  .meta({ id: 'LanguageDto' });
export type LanguageDto = z.output<typeof LanguageDto>;

export const LanguageList = z.object({ items: z.array(LanguageDto) }).meta({ id: 'LanguageList' });
export type LanguageList = z.output<typeof LanguageList>;
