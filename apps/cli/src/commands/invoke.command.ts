import type { Command } from 'commander';
import { CliError, reason, type CliContext } from '../cli-context.js';

type InvokeOptions = { data?: string; method?: string; header: string[]; gateway?: string; json?: boolean };

const collect = (value: string, previous: string[]) => [...previous, value];

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `faasline invoke <fn>`: calls the function through the gateway, as faas-cli invoke does, and prints its answer. */
export function registerInvokeCommand(program: Command, cli: CliContext): void {
  program
    .command('invoke')
    .description("call a function through the gateway and print its answer's body; exit 1 when it does not answer 2xx")
    .argument('<function>', 'the function, e.g. alexellis-fn1')
    .option('-d, --data <body>', 'the request body (default: standard input when it is not a terminal)')
    .option('-m, --method <method>', 'the HTTP method (default: POST with a body, GET without)')
    .option('-H, --header <name:value>', 'a request header; repeatable', collect, [])
    .option('--json', 'print {status, headers, body} as JSON')
    .option('--gateway <url>', 'the OpenFaaS gateway (default: OPENFAAS_URL, else http://127.0.0.1:$GATEWAY_PORT)')
    .action(async (name: string, options: InvokeOptions) => {
      const headers = new Headers();
      for (const header of options.header) {
        const colon = header.indexOf(':');
        if (colon <= 0) throw new CliError(`--header takes name:value, not ${header}`);
        try {
          headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
        } catch {
          throw new CliError(`--header ${header.slice(0, colon).trim()} is not a valid header`);
        }
      }
      const body = options.data !== undefined ? Buffer.from(options.data) : process.stdin.isTTY ? null : await readStdin();
      const method = (options.method ?? (body && body.length > 0 ? 'POST' : 'GET')).toUpperCase();
      if (!/^[A-Z]+$/.test(method)) throw new CliError(`--method takes an HTTP method, not ${options.method}`);
      const gateway = cli.gatewayUrl(options.gateway);
      const url = `${gateway}/function/${encodeURIComponent(name)}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: method === 'GET' || method === 'HEAD' || body === null ? undefined : new Uint8Array(body),
        });
      } catch (error) {
        throw new CliError(
          `cannot reach the gateway at ${gateway} (${reason(error)}): is faasline running? (npm start), or set OPENFAAS_URL`,
        );
      }
      const answer = Buffer.from(await response.arrayBuffer());
      if (options.json)
        console.log(
          JSON.stringify({ status: response.status, headers: Object.fromEntries(response.headers), body: answer.toString('utf8') }),
        );
      else if (response.ok) process.stdout.write(answer);
      if (!response.ok) {
        const first = answer.toString('utf8').trim().split('\n')[0]!.slice(0, 200);
        throw new CliError(`${name} answered ${response.status}${first ? `: ${first}` : ''}`);
      }
    });
}
