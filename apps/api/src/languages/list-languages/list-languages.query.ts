/** The languages a stack file may name in `lang` without a `configuration.templates` entry. */
export class ListLanguagesQuery {}
