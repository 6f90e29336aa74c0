import { BuildDto } from '../../builds/build.dto.js';
import { PageDto } from '../../queries/page.js';

export class BuildPage extends PageDto(BuildDto, 'BuildPage') {}
