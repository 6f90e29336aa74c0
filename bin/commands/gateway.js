// `faasline functions` and `faasline logs`: what runs on the OpenFaaS gateway (the embedded one, or OPENFAAS_URL),
// through the gateway's own API with its basic auth, as faas-cli list and faas-cli logs show it.
import { URLSearchParams } from 'node:url';
import { parseArgs, TextDecoder } from 'node:util';

/** The gateway and its basic auth: OPENFAAS_URL / OPENFAAS_USER / OPENFAAS_PASSWORD, else the embedded defaults. */
function connection(values, secret) {
  const gateway = (values.gateway ?? process.env.OPENFAAS_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8081}`).replace(/\/+$/, '');
  const user = process.env.OPENFAAS_USER ?? 'admin';
  const password = secret('OPENFAAS_PASSWORD', 'openfaas-password');
  return { gateway, headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } };
}

async function call(fail, url, headers) {
  let response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    fail(`cannot reach the gateway at ${new URL(url).origin} (${error.cause?.code ?? error.message}): is faasline running? (npm start), or set OPENFAAS_URL`);
  }
  if (response.status === 401) fail(`the gateway at ${new URL(url).origin} refused the credentials: set OPENFAAS_USER and OPENFAAS_PASSWORD`);
  return response;
}

/** `faasline functions`: name, image, replicas (available/desired), invocations and endpoint of every function. */
export async function functions(args, { fail, secret }) {
  const { values } = parseArgs({ args, options: { gateway: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const { gateway, headers } = connection(values, secret);
  const response = await call(fail, `${gateway}/system/functions`, headers);
  if (!response.ok) fail(`GET /system/functions answered ${response.status}: ${(await response.text()).trim()}`);
  const list = (await response.json()).sort((a, b) => a.name.localeCompare(b.name));
  const base = (process.env.GATEWAY_PUBLIC_URL ?? gateway).replace(/\/+$/, '');
  const rows = list.map((fn) => ({
    name: fn.name,
    image: fn.image,
    replicas: `${fn.availableReplicas ?? fn.replicas ?? 0}/${fn.replicas ?? 0}`,
    invocations: String(fn.invocationCount ?? 0),
    endpoint: `${base}/function/${fn.name}`,
  }));
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    console.log(`no functions deployed on ${gateway}`);
    return 0;
  }
  const columns = ['name', 'image', 'replicas', 'invocations', 'endpoint'];
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  console.log(line(columns.map((column) => column.toUpperCase())));
  for (const row of rows) console.log(line(columns.map((column) => row[column])));
  return 0;
}

/** `--since 10m` (s, m, h, d) or an RFC3339 date, as the RFC3339 date the gateway takes. */
function sinceDate(value, fail) {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) return new Date(Date.now() - Number(relative[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[relative[2]]).toISOString();
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute)) fail(`--since takes a duration like 10m or 2h, or an RFC3339 date: ${value}`);
  return new Date(absolute).toISOString();
}

/** `faasline logs <function>`: its log lines (`timestamp name (instance) text`); --follow keeps printing new ones. */
export async function logs(args, { fail, secret }) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { gateway: { type: 'string' }, since: { type: 'string' }, follow: { type: 'boolean', default: false }, tail: { type: 'string' }, instance: { type: 'string' } },
  });
  const name = positionals[0];
  if (!name) fail('usage: faasline logs <function> [--since 10m|RFC3339] [--tail N] [--follow]');
  if (values.tail !== undefined && !/^-?\d+$/.test(values.tail)) fail(`--tail takes a number: ${values.tail}`);
  const { gateway, headers } = connection(values, secret);
  const query = new URLSearchParams({ name });
  if (values.since) query.set('since', sinceDate(values.since, fail));
  if (values.tail) query.set('tail', values.tail);
  if (values.instance) query.set('instance', values.instance);
  if (values.follow) query.set('follow', 'true');
  const response = await call(fail, `${gateway}/system/logs?${query}`, headers);
  if (response.status === 404) fail(`no function named ${name} on ${gateway} (faasline functions lists them)`);
  if (!response.ok) fail(`GET /system/logs answered ${response.status}: ${(await response.text()).trim()}`);
  const print = (text) => {
    if (text.trim() === '') return;
    const entry = JSON.parse(text);
    console.log(`${entry.timestamp} ${entry.name} (${entry.instance}) ${entry.text}`);
  };
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop();
    lines.forEach(print);
  }
  print(pending + decoder.decode());
  return 0;
}
