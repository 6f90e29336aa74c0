import { createServer } from 'node:net';

/** A loopback port free now, for a server that must be told its port (or its own address) before it listens. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
