import { CLOUD_LABEL, type FunctionDeployment } from '#domain';

/** A secret's name is a file name in a secrets folder: never a path, never `.` or `..`. */
export const isFileName = (name: string) => /^[-a-zA-Z_0-9.]+$/.test(name) && !/^\.+$/.test(name);

/**
 * The secret files of a deployment: each deployed (owner-prefixed) name, and the name the stack file used, which
 * handlers read as /var/openfaas/secrets/<name>. The owner is the deployment's `git-owner` label, never a guess
 * from the name (`acme-labs-api-key` is owner `acme-labs`'s `api-key`); a faasline deployment may only name
 * secrets of its own owner. Deployments made without faasline's labels (the operator's) get the names as given.
 */
export function secretFiles(deployment: Pick<FunctionDeployment, 'service' | 'labels' | 'secrets'>): { deployed: string; plain: string }[] {
  const owner = deployment.labels?.[`${CLOUD_LABEL}git-owner`];
  return (deployment.secrets ?? []).map((deployed) => {
    if (!isFileName(deployed)) throw new Error(`secret name ${JSON.stringify(deployed)} is not valid`);
    if (owner === undefined) return { deployed, plain: deployed };
    if (!deployed.startsWith(`${owner}-`)) {
      throw new Error(`function ${deployment.service} of owner ${owner} may not use secret ${deployed}: secrets are named ${owner}-<name>`);
    }
    const plain = deployed.slice(owner.length + 1);
    if (!isFileName(plain)) throw new Error(`secret name ${JSON.stringify(deployed)} is not valid`);
    return { deployed, plain };
  });
}
