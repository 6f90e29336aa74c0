import { BuildDto } from '../../builds/build.dto.js';
import { PageDto } from '../../queries/page.js';

export const BuildPage = PageDto(BuildDto, 'BuildPage');
