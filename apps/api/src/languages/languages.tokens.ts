/** The TemplateRegistry the languages route lists the built-in templates of. */
export const LANGUAGE_TEMPLATES = Symbol('LANGUAGE_TEMPLATES');
