import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  callTimeouts,
  cpuQuantityCores,
  formatDuration,
  idlePolicy,
  memoryQuantityBytes,
  type CallTimeouts,
  type FunctionDeployment,
  type IdlePolicy,
} from '#domain';
import { backoffDelay, constantTimeEqual, imageIndexPath, type Logger, type Sandbox } from '#infra';
import { FunctionCrashed, FunctionProcess, type LogLine } from './function-process.js';
import { LogRing } from './log-ring.js';
import { isFileName, secretFiles } from './secret-files.js';

export type EmbeddedGatewayOptions = Readonly<{
  dataDir: string;
  /** Where the local builder keeps image folders (`DATA_DIR/images`). */
  imagesDir: string;
  user: string;
  password: string;
  logger: Logger;
  /** How long a call to a function may take when its environment sets no exec_timeout or write_timeout (60 s). */
  timeoutMs?: number;
  /** The longest a function's timeouts may ask for (MAX_EXEC_TIMEOUT, 5 min). */
  maxTimeoutMs?: number;
  /** Where function processes run; null or unset: bare child processes (only for trusted owners). */
  sandbox?: Sandbox | null;
  /**
   * How long a function may go without a call before its process stops (SCALE_TO_ZERO_IDLE, 15 min), unless its
   * labels say otherwise (`idlePolicy`); null: every function runs for as long as it is deployed.
   */
  idleMs?: number | null;
}>;

type Deployed = {
  deployment: FunctionDeployment;
  createdAt: string;
  /** Deployed while a sandbox contained it: a tenant's code, which a start without a sandbox must not run bare. */
  sandboxed: boolean;
  current: FunctionProcess | null;
  /** The bounds of a call to the running version (from its environment). */
  timeouts: CallTimeouts;
  instanceDir: string | null;
  invocations: number;
  updating: Promise<void> | null;
  /** From its labels: how long it may go without a call before its process stops (null: never). */
  idle: IdlePolicy;
  /** Stopped for want of calls (or not started since the gateway restarted): the next call starts it. */
  atZero: boolean;
  /** When its last call ended or its process started: its idle time counts from here. */
  lastActiveMs: number;
  /** The start from zero under way: every call that finds the function stopped waits for this one. */
  waking: Promise<FunctionProcess> | null;
  /** After a start from zero failed: calls answer 503 without starting it again until `retryAtMs`. */
  wakeFailure: { failures: number; retryAtMs: number } | null;
};

const NAME = /^[-a-zA-Z_0-9.]+$/;
/** A call's bound when the function's environment sets none, and the most it may set (MAX_EXEC_TIMEOUT). */
const DEFAULT_CALL_MS = 60_000;
const MAX_CALL_MS = 5 * 60_000;
const MAX_LOG_LINES = 1000;
/** What the gateway keeps of all functions' output (each function's own rate is limited in FunctionProcess). */
const LOG_BUFFER_BYTES = 16 * 2 ** 20;
/** A follower whose connection holds this much unsent output is ended rather than buffered for without bound. */
const FOLLOWER_BACKLOG_BYTES = 4 * 2 ** 20;
/** SCALE_TO_ZERO_IDLE's default: OpenFaaS Pro's for com.openfaas.scale.zero-duration. */
const DEFAULT_IDLE_MS = 15 * 60_000;
/** How often idle functions are looked for: a function stops at most this long after its idle time. */
const IDLE_CHECK_MS = 1000;
/** A function that failed to start from zero is not started again by every call: 1 s, 2 s, 4 s… at most every 30 s. */
const WAKE_BACKOFF = { baseMs: 500, maxMs: 30_000 };

/**
 * The OpenFaaS gateway API on one machine: functions run as child processes from the local builder's image
 * folders. An update starts the new version, waits for its health check, switches traffic and drains the old one.
 * A function that goes without calls for its idle time is stopped (scaled to zero: its deployment stays, its process
 * and instance folder go) and its next call starts it again, one start however many calls wait for it.
 * Deployments are kept in DATA_DIR and come back after a restart, stopped until called when they may scale to zero.
 */
export class EmbeddedGateway {
  private readonly functions = new Map<string, Deployed>();
  private readonly logs = new LogRing(LOG_BUFFER_BYTES);
  private readonly followers = new Set<(line: LogLine) => void>();
  /** Instances replaced behind a call that was cut, still finishing their other calls. */
  private readonly retiring = new Set<FunctionProcess>();
  private server: Server | null = null;
  private idleCheck: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly stateFile: string;
  private readonly secretsDir: string;

  private readonly functionsDir: string;

  constructor(private readonly options: EmbeddedGatewayOptions) {
    this.stateFile = join(options.dataDir, 'gateway', 'deployments.json');
    this.secretsDir = join(options.dataDir, 'gateway', 'secrets');
    this.functionsDir = join(options.dataDir, 'gateway', 'functions');
  }

  async start(port: number, host = '127.0.0.1'): Promise<string> {
    await mkdir(this.secretsDir, { recursive: true, mode: 0o700 });
    const saved = existsSync(this.stateFile)
      ? (JSON.parse(await readFile(this.stateFile, 'utf8')) as { deployment: FunctionDeployment; createdAt: string; sandboxed?: boolean }[])
      : [];
    await this.sweepInstanceFolders();
    this.server = createServer((request, response) => void this.route(request, response));
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const { port: bound } = this.server.address() as AddressInfo;
    for (const { deployment, createdAt, sandboxed = false } of saved) {
      const entry = this.register(deployment, createdAt, sandboxed);
      // Fail closed: only a trusted owner's push deploys without a sandbox, so what one contained stays stopped.
      if (sandboxed && !this.options.sandbox) {
        this.options.logger.warn(`gateway: ${deployment.service} not started: it was deployed in a sandbox and this start has none`);
        continue;
      }
      // Its deploy proved it starts; a thousand functions restored must not all start at once for nobody.
      if (entry.idle.idleMs !== null) {
        entry.atZero = true;
        continue;
      }
      entry.updating = this.launch(entry, deployment)
        .catch((error: Error) => this.options.logger.error(`gateway: ${deployment.service} did not start: ${error.message}`))
        .finally(() => (entry.updating = null));
    }
    this.idleCheck = setInterval(() => this.stopIdle(), IDLE_CHECK_MS).unref();
    return `http://${host}:${bound}`;
  }

  /**
   * Nothing runs yet, so every instance folder is a leftover of a gateway that was killed (they hold copies of
   * secrets): those of deployed functions and whole folders of functions deleted since. One gateway per DATA_DIR
   * (the server's lock) means none is another's.
   */
  private async sweepInstanceFolders(): Promise<void> {
    const names = await readdir(this.functionsDir).catch(() => [] as string[]);
    await Promise.all(names.map((name) => rm(join(this.functionsDir, name), { recursive: true, force: true })));
  }

  async stop(): Promise<void> {
    if (this.idleCheck) clearInterval(this.idleCheck);
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    // A start still under way (after a restart of the gateway, or a deploy) ends first: its process would outlive us.
    await Promise.all([...this.functions.values()].map((entry) => entry.updating));
    await Promise.all([...this.functions.values()].map((entry) => entry.waking?.catch(() => undefined)));
    await Promise.all([...this.functions.values()].map((entry) => entry.current?.stop(1000)));
    await Promise.all([...this.retiring].map((instance) => instance.stop(1000)));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://gateway');
    try {
      if (url.pathname === '/healthz') return send(response, 200, 'OK');
      const fn = /^\/function\/([^/]+)(\/.*)?$/.exec(url.pathname);
      if (fn) return await this.invoke(decodeURIComponent(fn[1]!), `${fn[2] ?? '/'}${url.search}`, request, response);
      if (!url.pathname.startsWith('/system/')) return send(response, 404, 'not found');
      if (!this.authorised(request.headers.authorization)) {
        response.setHeader('WWW-Authenticate', 'Basic realm="Restricted"');
        return send(response, 401, 'Unauthorized');
      }
      const body = await readBody(request);
      return await this.system(request.method ?? 'GET', url, body, response);
    } catch (error) {
      // A function that crashed at start would crash again: a distinct answer, with its output, so the deployer need not retry.
      if (error instanceof FunctionCrashed)
        return send(response, 422, { message: error.message, crashed: { exit: error.exit, output: error.output } });
      send(response, 500, (error as Error).message);
    }
  }

  private authorised(header: string | undefined): boolean {
    const expected = `Basic ${Buffer.from(`${this.options.user}:${this.options.password}`).toString('base64')}`;
    return header !== undefined && constantTimeEqual(header, expected);
  }

  private async system(method: string, url: URL, raw: Buffer, response: ServerResponse): Promise<void> {
    let body: unknown = null;
    // A body that is not JSON is the caller's mistake (400, as OpenFaaS answers), not an internal error.
    if (method !== 'GET' && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(response, 400, 'the request body is not JSON');
      }
    }
    if (url.pathname === '/system/info' && method === 'GET') {
      return send(response, 200, {
        provider: { provider: 'faasline', orchestration: 'process', version: { release: '0.1.0', sha: 'dev' } },
        version: { release: '0.1.0', sha: 'dev' },
        arch: process.arch === 'x64' ? 'x86_64' : process.arch,
      });
    }
    if (url.pathname === '/system/functions') {
      if (method === 'GET')
        return send(
          response,
          200,
          [...this.functions.values()].map((entry) => this.status(entry)),
        );
      if (method === 'POST' || method === 'PUT') {
        const deployment = body as FunctionDeployment;
        if (
          !deployment ||
          typeof deployment.service !== 'string' ||
          typeof deployment.image !== 'string' ||
          !NAME.test(deployment.service)
        ) {
          return send(response, 400, 'service and image are required');
        }
        const existing = this.functions.get(deployment.service);
        if (method === 'PUT' && !existing) return send(response, 404, `function ${deployment.service} not found`);
        if (method === 'POST' && existing) return send(response, 400, `function ${deployment.service} already exists`);
        // As faas-netes: a deploy naming a secret that does not exist is the caller's mistake, refused before anything starts.
        const missing = (deployment.secrets ?? []).find((name) => !isFileName(name) || !existsSync(join(this.secretsDir, name)));
        if (missing !== undefined) return send(response, 400, `unable to fetch secrets: secrets "${missing}" not found`);
        await this.deploy(deployment);
        return send(response, 202, '');
      }
      if (method === 'DELETE') {
        const name = (body as { functionName?: unknown } | null)?.functionName;
        if (typeof name !== 'string' || name === '') return send(response, 400, 'functionName is required');
        const entry = this.functions.get(name);
        if (!entry) return send(response, 404, `function ${name} not found`);
        this.functions.delete(name);
        await this.save();
        // A start under way (a deploy, a call that found it stopped) would leave a process nobody stops.
        await entry.updating;
        await entry.waking?.catch(() => undefined);
        await entry.current?.stop();
        await rm(join(this.functionsDir, name), { recursive: true, force: true });
        return send(response, 202, '');
      }
    }
    const one = /^\/system\/function\/([^/]+)$/.exec(url.pathname);
    if (one && method === 'GET') {
      const entry = this.functions.get(decodeURIComponent(one[1]!));
      return entry ? send(response, 200, this.status(entry)) : send(response, 404, 'function not found');
    }
    if (url.pathname === '/system/secrets') return this.secrets(method, body, response);
    if (url.pathname === '/system/logs' && method === 'GET') return this.streamLogs(url.searchParams, response);
    send(response, 404, 'not found');
  }

  /** `GET /system/logs?name=&instance=&tail=&since=&follow=`: ndjson; with follow the answer stays open and new lines follow. */
  private streamLogs(params: URLSearchParams, response: ServerResponse): void {
    const name = params.get('name') ?? '';
    const instance = params.get('instance');
    const since = params.get('since') ? Date.parse(params.get('since')!) : null;
    if (since !== null && Number.isNaN(since)) return send(response, 400, 'since must be an RFC3339 date');
    const tail = Number(params.get('tail') ?? MAX_LOG_LINES);
    // Timestamps are ISO strings of one format, so they compare as text; live lines are newer than any `since`.
    const sinceIso = since === null ? null : new Date(since).toISOString();
    const ofFunction = (line: LogLine) => line.name === name && (instance === null || line.instance === instance);
    const matching: LogLine[] = [];
    for (const line of this.logs.lines()) if (ofFunction(line) && (sinceIso === null || line.timestamp >= sinceIso)) matching.push(line);
    const lines = Number.isFinite(tail) && tail > 0 ? matching.slice(-tail) : matching;
    if (lines.length === 0 && !this.functions.has(name)) return send(response, 404, `function ${name} not found`);
    const entry = (line: LogLine) => `${JSON.stringify({ ...line, namespace: 'openfaas-fn' })}\n`;
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (params.get('follow') !== 'true') return void response.end(lines.map(entry).join(''));
    response.write(lines.map(entry).join(''));
    const follower = (line: LogLine) => {
      if (!ofFunction(line)) return;
      if (response.writableLength > FOLLOWER_BACKLOG_BYTES) return void response.destroy();
      response.write(entry(line));
    };
    this.followers.add(follower);
    response.once('close', () => this.followers.delete(follower));
  }

  private async secrets(method: string, body: unknown, response: ServerResponse): Promise<void> {
    if (method === 'GET')
      return send(
        response,
        200,
        (await readdir(this.secretsDir)).map((name) => ({ name, namespace: 'openfaas-fn' })),
      );
    const secret = body as { name?: string; value?: string; rawValue?: string } | null;
    if (!secret?.name || !isFileName(secret.name)) return send(response, 400, 'a secret needs a valid name');
    const path = join(this.secretsDir, secret.name);
    if (method === 'DELETE') {
      if (!existsSync(path)) return send(response, 404, 'secret not found');
      await rm(path);
      return send(response, 204, '');
    }
    if (method === 'POST' || method === 'PUT') {
      if (method === 'PUT' && !existsSync(path)) return send(response, 404, 'secret not found');
      const value = secret.rawValue !== undefined ? Buffer.from(secret.rawValue, 'base64') : Buffer.from(secret.value ?? '');
      await writeFile(path, value, { mode: 0o600 });
      return send(response, method === 'POST' ? 201 : 200, '');
    }
    send(response, 405, 'method not allowed');
  }

  private status(entry: Deployed) {
    const { deployment } = entry;
    return {
      name: deployment.service,
      image: deployment.image,
      namespace: 'openfaas-fn',
      envProcess: deployment.envProcess ?? '',
      envVars: deployment.envVars ?? {},
      constraints: deployment.constraints ?? [],
      secrets: deployment.secrets ?? [],
      labels: deployment.labels ?? {},
      annotations: deployment.annotations ?? {},
      limits: deployment.limits ?? null,
      requests: deployment.requests ?? null,
      readOnlyRootFilesystem: deployment.readOnlyRootFilesystem ?? false,
      invocationCount: entry.invocations,
      // As OpenFaaS reports a function scaled to zero: still listed, with no replica wanted until a call comes.
      replicas: entry.atZero ? 0 : 1,
      availableReplicas: entry.current?.ready ? 1 : 0,
      createdAt: entry.createdAt,
    };
  }

  /** A function known to the gateway, running nothing yet. */
  private register(deployment: FunctionDeployment, createdAt: string, sandboxed: boolean): Deployed {
    const entry: Deployed = {
      deployment,
      createdAt,
      sandboxed,
      current: null,
      timeouts: this.timeouts(deployment),
      instanceDir: null,
      invocations: 0,
      updating: null,
      idle: this.idlePolicy(deployment),
      atZero: false,
      lastActiveMs: Date.now(),
      waking: null,
      wakeFailure: null,
    };
    this.functions.set(deployment.service, entry);
    return entry;
  }

  /** Starts the new version, waits for its health check, switches traffic to it, then drains the old one. */
  private async deploy(deployment: FunctionDeployment): Promise<void> {
    let entry = this.functions.get(deployment.service);
    const created = !entry;
    entry ??= this.register(deployment, new Date().toISOString(), false);
    await entry.updating;
    const target = entry;
    const update = this.launch(target, deployment);
    target.updating = update.catch(() => undefined).then(() => undefined);
    try {
      await update;
    } catch (error) {
      // A new function that never started is not deployed: it must not be listed, nor block a POST that retries it.
      if (created && target.current === null) this.functions.delete(deployment.service);
      throw error;
    } finally {
      target.updating = null;
    }
    target.deployment = deployment;
    target.sandboxed = Boolean(this.options.sandbox);
    target.idle = this.idlePolicy(deployment);
    target.atZero = false;
    target.wakeFailure = null;
    target.lastActiveMs = Date.now();
    await this.save();
  }

  private idlePolicy(deployment: FunctionDeployment): IdlePolicy {
    return idlePolicy(deployment.labels, this.options.idleMs === undefined ? DEFAULT_IDLE_MS : this.options.idleMs);
  }

  /** Stops every function that has had no call for its idle time; its deployment stays, the next call starts it. */
  private stopIdle(): void {
    const now = Date.now();
    for (const entry of this.functions.values()) {
      const running = entry.current;
      const { idleMs } = entry.idle;
      if (!running || idleMs === null || entry.updating || entry.waking) continue;
      if (running.inFlight > 0 || now - entry.lastActiveMs < idleMs) continue;
      const name = entry.deployment.service;
      const instanceDir = entry.instanceDir;
      entry.current = null;
      entry.instanceDir = null;
      entry.atZero = true;
      this.record({
        name,
        instance: running.instance,
        timestamp: new Date().toISOString(),
        text: `no call for ${formatDuration(idleMs)}: stopped (scaled to zero), the next call starts it`,
      });
      this.retiring.add(running);
      void running
        .stop(0)
        .finally(() => this.retiring.delete(running))
        .then(() => (instanceDir ? rm(instanceDir, { recursive: true, force: true }) : undefined))
        .catch((error: Error) => this.options.logger.warn(`gateway: ${name} not stopped cleanly: ${error.message}`));
    }
  }

  /** The running instance of a function at zero: one start, shared by every call that waits for it. */
  private wake(entry: Deployed): Promise<FunctionProcess> {
    if (!entry.waking) {
      const waking = this.startFromZero(entry);
      entry.waking = waking;
      void waking
        .catch(() => undefined)
        .finally(() => {
          if (entry.waking === waking) entry.waking = null;
        });
    }
    return entry.waking;
  }

  private async startFromZero(entry: Deployed): Promise<FunctionProcess> {
    // A deploy under way brings its own instance.
    await entry.updating;
    const name = entry.deployment.service;
    if (entry.current) return entry.current;
    if (this.functions.get(name) !== entry) throw new Error(`${name} was deleted`);
    // Fail closed, as at start: what a sandbox contained never runs bare.
    if (entry.sandboxed && !this.options.sandbox) throw new Error(`${name} was deployed in a sandbox and this gateway has none`);
    const failure = entry.wakeFailure;
    if (failure && Date.now() < failure.retryAtMs) throw new Error(`${name} failed to start ${failure.failures} time(s); not retried yet`);
    const started = this.launch(entry, entry.deployment);
    const updating = started.then(
      () => undefined,
      () => undefined,
    );
    entry.updating = updating;
    try {
      await started;
    } catch (error) {
      const failures = (failure?.failures ?? 0) + 1;
      entry.wakeFailure = { failures, retryAtMs: Date.now() + backoffDelay(WAKE_BACKOFF, failures) };
      // Its own output went to its log as it came; the reason goes beside it, not to the caller.
      const reason = error instanceof FunctionCrashed ? `it ended (${error.exit}) before it was healthy` : (error as Error).message;
      this.record({ name, instance: '', timestamp: new Date().toISOString(), text: `not started for a call: ${reason}` });
      throw error;
    } finally {
      if (entry.updating === updating) entry.updating = null;
    }
    entry.wakeFailure = null;
    entry.atZero = false;
    entry.lastActiveMs = Date.now();
    return entry.current!;
  }

  private timeouts(deployment: FunctionDeployment): CallTimeouts {
    return callTimeouts(deployment.envVars ?? {}, {
      defaultMs: this.options.timeoutMs ?? DEFAULT_CALL_MS,
      maxMs: this.options.maxTimeoutMs ?? MAX_CALL_MS,
    });
  }

  /** `drain: 'behind'`: the previous instance finishes its calls after this returns (a replacement blocks no deploy). */
  private async launch(entry: Deployed, deployment: FunctionDeployment, drain: 'awaited' | 'behind' = 'awaited'): Promise<void> {
    const timeouts = this.timeouts(deployment);
    const indexFile = imageIndexPath(this.options.imagesDir, deployment.image);
    if (!existsSync(indexFile)) throw new Error(`image ${deployment.image} was not built here`);
    const folder = (await readFile(indexFile, 'utf8')).trim();
    const context = await imageContext(this.options.imagesDir, folder);
    if (!context)
      throw new Error(`image ${deployment.image}: its folder is not a build's (its context is not a folder in the images folder)`);
    // One folder per instance: the running version keeps its files while the next one starts.
    const instanceDir = join(this.options.dataDir, 'gateway', 'functions', deployment.service, randomUUID());
    const secretsDir = join(instanceDir, 'secrets');
    await mkdir(secretsDir, { recursive: true, mode: 0o700 });
    const secretValues: string[] = [];
    for (const { deployed, plain } of secretFiles(deployment)) {
      const source = join(this.secretsDir, deployed);
      if (!existsSync(source)) throw new Error(`secret ${deployed} not found`);
      const value = await readFile(source);
      secretValues.push(value.toString('utf8').trim());
      for (const name of new Set([deployed, plain])) await writeFile(join(secretsDir, name), value, { mode: 0o600 });
    }
    const next = new FunctionProcess({
      name: deployment.service,
      cwd: context,
      command: deployment.envProcess ?? 'node index.js',
      env: deployment.envVars ?? {},
      // Read as the stack rules read them, so the limit a function runs under is the one they checked.
      memoryBytes: quantity(deployment.limits?.memory, (text) => Math.floor(memoryQuantityBytes(text) ?? 0) || null),
      cpus: quantity(deployment.limits?.cpu, cpuQuantityCores),
      secretsDir,
      sandbox: this.options.sandbox ?? null,
      onLog: (line) => this.record(line),
    });
    for (const note of [...timeouts.notes, ...this.idlePolicy(deployment).notes])
      this.record({ name: deployment.service, instance: next.instance, timestamp: new Date().toISOString(), text: note });
    try {
      await next.start();
    } catch (error) {
      await rm(instanceDir, { recursive: true, force: true });
      // What it printed becomes a deploy's reason and a commit status: never with the values of its secrets.
      if (error instanceof FunctionCrashed)
        throw new FunctionCrashed(
          deployment.service,
          error.exit,
          error.output.map((line) => redacted(line, secretValues)),
        );
      throw error;
    }
    const previous = entry.current;
    const previousDir = entry.instanceDir;
    const drainMs = entry.timeouts.callMs;
    entry.current = next;
    entry.timeouts = timeouts;
    entry.instanceDir = instanceDir;
    const retire = async () => {
      if (previous) this.retiring.add(previous);
      try {
        await previous?.stop(drainMs);
      } finally {
        if (previous) this.retiring.delete(previous);
      }
      if (previousDir) await rm(previousDir, { recursive: true, force: true });
    };
    if (drain === 'awaited') return retire();
    void retire().catch((error: Error) => this.options.logger.warn(`gateway: ${deployment.service}: ${error.message}`));
  }

  private record(line: LogLine): void {
    this.logs.push(line);
    for (const follower of this.followers) follower(line);
  }

  private async invoke(name: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const entry = this.functions.get(name);
    if (!entry) return send(response, 404, `function ${name} not found`);
    let running = entry.current;
    if (!running && entry.atZero) {
      // Its reason is in its log: a caller gets what it gets for any function that does not run.
      running = await this.wake(entry).catch(() => null);
      if (request.socket.destroyed) return;
    }
    const target = running;
    if (!target) return send(response, 503, `function ${name} is not ready`);
    // Exited on its own: its port may be another tenant's now, until a restart on a fresh port passed its checks.
    if (!target.ready) return send(response, 503, `function ${name} is restarting`);
    entry.invocations += 1;
    target.inFlight += 1;
    const { callMs, readMs } = entry.timeouts;
    // Once per request, however it ends (answered, timed out, failed, or the caller went away).
    let finished = false;
    const timers: { call?: NodeJS.Timeout; read?: NodeJS.Timeout } = {};
    const done = () => {
      if (!finished) target.inFlight -= 1;
      finished = true;
      entry.lastActiveMs = Date.now();
      clearTimeout(timers.call);
      clearTimeout(timers.read);
    };
    const headers = { ...request.headers, host: `127.0.0.1:${target.port}` };
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: request.method, path, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.on('end', done);
    });
    // A caller that goes away ends the call upstream too (a classic template's call process with it).
    response.once('close', () => {
      if (!response.writableFinished) upstream.destroy();
      done();
    });
    const cut = (status: number, body: string) => {
      upstream.destroy();
      done();
      // Past its headers, a response cut short can only end unfinished (as a watchdog's write timeout ends it).
      if (response.headersSent) response.destroy();
      else send(response, status, body);
    };
    // The whole call (exec_timeout, write_timeout): as the watchdogs answer. A template that forks per call ends that
    // call's process when the connection closes (408, the classic watchdog's "Killed process."); any other keeps
    // serving the call it can no longer answer (504, of-watchdog's), so its instance is replaced.
    timers.call = setTimeout(() => {
      if (finished) return;
      if (target.forksPerCall) return cut(408, 'Killed process.\n');
      cut(504, `function ${name} did not answer within ${formatDuration(callMs)}`);
      this.replace(entry, target);
    }, callMs);
    // The request itself (read_timeout): a caller that does not finish sending it is cut before the handler runs.
    timers.read = setTimeout(() => {
      if (!finished) cut(408, `function ${name}: the request was not received within ${formatDuration(readMs)}`);
    }, readMs);
    request.once('end', () => clearTimeout(timers.read));
    upstream.on('error', (error) => {
      if (finished) return;
      done();
      if (!response.headersSent) send(response, 502, `function ${name}: ${error.message}`);
    });
    request.pipe(upstream);
  }

  /**
   * A new instance of the running version takes over from `stale` (a call that was cut still runs in it): `stale`
   * finishes its other calls, then ends with the one nobody waits for. Not while a deploy is under way: that one
   * replaces it anyway.
   */
  private replace(entry: Deployed, stale: FunctionProcess): void {
    if (entry.current !== stale || entry.updating || !this.functions.has(entry.deployment.service)) return;
    const name = entry.deployment.service;
    entry.updating = this.launch(entry, entry.deployment, 'behind')
      .catch((error: Error) => this.options.logger.warn(`gateway: ${name} not replaced after a call was cut: ${error.message}`))
      .finally(() => (entry.updating = null));
  }

  /** Deploys of different functions save at once: one write at a time, each of the deployments as they are then. */
  private save(): Promise<void> {
    const saved = this.saving.then(() => this.write());
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  private async write(): Promise<void> {
    await mkdir(join(this.options.dataDir, 'gateway'), { recursive: true });
    const temporary = `${this.stateFile}.tmp`;
    await writeFile(
      temporary,
      JSON.stringify([...this.functions.values()].map(({ deployment, createdAt, sandboxed }) => ({ deployment, createdAt, sandboxed }))),
    );
    await rename(temporary, this.stateFile);
  }
}

/** An image folder's context as a real folder right in `imagesDir` (not a symlink a build left there), or null. */
async function imageContext(imagesDir: string, folder: string): Promise<string | null> {
  const context = join(folder, 'context');
  const [info, real, images] = await Promise.all([
    lstat(context).catch(() => null),
    realpath(context).catch(() => null),
    realpath(imagesDir).catch(() => null),
  ]);
  if (!info?.isDirectory() || !real || !images || dirname(dirname(real)) !== images) return null;
  return real;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  if (typeof body === 'string') response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** `text` without any of `secrets` (values short enough to occur by chance are left alone). */
const redacted = (text: string, secrets: readonly string[]) =>
  secrets.filter((secret) => secret.length >= 4).reduce((line, secret) => line.split(secret).join('[redacted]'), text);

const quantity = <T>(text: string | undefined, read: (text: string) => T | null): T | null =>
  text === undefined ? null : read(text.trim());
