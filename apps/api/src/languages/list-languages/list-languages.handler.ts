import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { TemplateRegistry } from '#infra';
import { LANGUAGE_TEMPLATES } from '../languages.tokens.js';
import type { LanguageList } from './language.dto.js';
import { ListLanguagesQuery } from './list-languages.query.js';

@QueryHandler(ListLanguagesQuery)
export class ListLanguagesHandler implements IQueryHandler<ListLanguagesQuery, LanguageList> {
  constructor(@Inject(LANGUAGE_TEMPLATES) private readonly templates: TemplateRegistry) {}

  async execute(): Promise<LanguageList> {
    const templates = [...(await this.templates.builtins()).values()];
    return {
      items: templates
        .map((template) => ({ name: template.name, classic: template.classic, template: template.folder }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }
}
