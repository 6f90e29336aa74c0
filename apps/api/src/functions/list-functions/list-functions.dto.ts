import { FunctionDto } from '../function.dto.js';
import { PageDto } from '../../queries/page.js';

export const FunctionPage = PageDto(FunctionDto, 'FunctionPage');
