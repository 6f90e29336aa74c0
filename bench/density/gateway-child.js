// The embedded gateway in a process of its own, so that what the bench measures of it (its RSS and its children's,
// the latency it adds) is not the bench's client. Started by bench/density/index.js with its settings as JSON;
// answers its URL and its sandbox over IPC, stops on 'stop'.
import { EmbeddedGateway } from '../../dist/libs/gateway/index.js';
import { openSandbox, silentLogger } from '../../dist/libs/infra/index.js';

const settings = JSON.parse(process.argv[2]);
const opened = settings.sandbox ? await openSandbox({ mode: 'auto', uidBase: settings.uidBase }) : { sandbox: null, reason: 'off' };
const gateway = new EmbeddedGateway({
  dataDir: settings.dataDir,
  imagesDir: settings.imagesDir,
  user: 'admin',
  password: settings.password,
  logger: silentLogger,
  sandbox: opened.sandbox,
  idleMs: settings.idleMs,
});
const url = await gateway.start(0);
process.send({ url, sandbox: opened.sandbox?.description ?? null, reason: opened.reason });
process.on('message', async (message) => {
  // The live heap once garbage is collected: what the gateway holds, apart from what its allocator keeps of past peaks.
  if (message === 'heap') {
    globalThis.gc?.();
    return process.send({ heapUsed: process.memoryUsage().heapUsed });
  }
  if (message !== 'stop') return;
  await gateway.stop();
  process.exit(0);
});
