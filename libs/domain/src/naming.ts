/** Stream ids: one stream per installation, per repository and per deployed function. */
export const streamIds = {
  installation: (installationId: number) => `installation-${installationId}`,
  repository: (owner: string, repo: string) => `repository-${owner.toLowerCase()}/${repo.toLowerCase()}`,
  function: (name: string) => `function-${name}`,
} as const;
