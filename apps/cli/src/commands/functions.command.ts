import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { gatewayCall, gatewayConnection } from './gateway-connection.js';
import { printTable } from './table.js';

type GatewayFunction = { name: string; image: string; replicas?: number; availableReplicas?: number; invocationCount?: number };

/** `faasline functions`: name, image, replicas (available/desired), invocations and endpoint of every function. */
export function registerFunctionsCommand(program: Command, cli: CliContext): void {
  program
    .command('functions')
    .description("the gateway's functions: name, image, replicas, invocations, endpoint")
    .option('--json', 'print them as JSON')
    .option('--gateway <url>', 'the OpenFaaS gateway (default: OPENFAAS_URL, else http://127.0.0.1:$GATEWAY_PORT)')
    .action(async (options: { json?: boolean; gateway?: string }) => {
      const { gateway, headers } = gatewayConnection(cli, options.gateway);
      const response = await gatewayCall(`${gateway}/system/functions`, headers);
      if (!response.ok) throw new CliError(`GET /system/functions answered ${response.status}: ${(await response.text()).trim()}`);
      const list = ((await response.json()) as GatewayFunction[]).sort((a, b) => a.name.localeCompare(b.name));
      const base = (process.env.GATEWAY_PUBLIC_URL ?? gateway).replace(/\/+$/, '');
      const rows = list.map((fn) => ({
        name: fn.name,
        image: fn.image,
        replicas: `${fn.availableReplicas ?? fn.replicas ?? 0}/${fn.replicas ?? 0}`,
        invocations: String(fn.invocationCount ?? 0),
        endpoint: `${base}/function/${fn.name}`,
      }));
      cli.print(options.json ?? false, rows, () => {
        if (rows.length === 0) console.log(`no functions deployed on ${gateway}`);
        else printTable(rows, ['name', 'image', 'replicas', 'invocations', 'endpoint']);
      });
    });
}
