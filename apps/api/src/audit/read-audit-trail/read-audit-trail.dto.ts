import { PageDto } from '../../queries/page.js';
import { EventDto } from '../event.dto.js';

export const EventPage = PageDto(EventDto, 'EventPage');
