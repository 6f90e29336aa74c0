import { PageDto } from '../../queries/page.js';
import { EventDto } from '../event.dto.js';

export class EventPage extends PageDto(EventDto, 'EventPage') {}
