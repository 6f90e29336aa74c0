import { FunctionDto } from '../function.dto.js';
import { PageDto } from '../../queries/page.js';

export class FunctionPage extends PageDto(FunctionDto, 'FunctionPage') {}
