// `faasline functions` and `faasline logs` talk to the OpenFaaS gateway (the embedded one, or OPENFAAS_URL)
// through its own API with its basic auth, as faas-cli list and faas-cli logs do.
import { CliError, reason, type CliContext } from '../cli-context.js';

export type GatewayConnection = { gateway: string; headers: Record<string, string> };

/** The gateway and its basic auth: OPENFAAS_USER / OPENFAAS_PASSWORD, else `admin` and the generated password. */
export function gatewayConnection(cli: CliContext, flag: string | undefined): GatewayConnection {
  const gateway = cli.gatewayUrl(flag);
  const user = process.env.OPENFAAS_USER ?? 'admin';
  const password = cli.secret('OPENFAAS_PASSWORD', 'openfaas-password');
  return { gateway, headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } };
}

export async function gatewayCall(url: string, headers: Record<string, string>): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    throw new CliError(
      `cannot reach the gateway at ${new URL(url).origin} (${reason(error)}): is faasline running? (npm start), or set OPENFAAS_URL`,
    );
  }
  if (response.status === 401)
    throw new CliError(`the gateway at ${new URL(url).origin} refused the credentials: set OPENFAAS_USER and OPENFAAS_PASSWORD`);
  return response;
}
