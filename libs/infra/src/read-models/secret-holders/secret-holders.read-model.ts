export const SECRET_HOLDERS_READ_MODEL = Symbol('SECRET_HOLDERS_READ_MODEL');

/** Who holds a deployed secret name, asked before an owner may take it. */
export interface SecretHoldersReadModel {
  /** The owner that set this deployed name last through faasline, or null when none holds it (never set, or deleted last). */
  holderOf(deployedName: string): Promise<string | null>;
}
