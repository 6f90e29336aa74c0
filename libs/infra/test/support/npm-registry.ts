import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';

export type NpmRegistry = Readonly<{ url: string; requests: readonly string[]; close: () => Promise<void> }>;

/**
 * A registry on loopback serving one package, `greeting@1.0.0`, whose `index.js` is `source`: the npm protocol
 * a handler's install needs (packument, then tarball). With `token`, every request needs `Bearer <token>`.
 */
export async function startNpmRegistry(source: string, token: string | null = null): Promise<NpmRegistry> {
  const pkg = mkdtempSync(join(tmpdir(), 'faasline-npm-package-'));
  mkdirSync(join(pkg, 'package'));
  writeFileSync(join(pkg, 'package', 'package.json'), '{"name":"greeting","version":"1.0.0","main":"index.js"}');
  writeFileSync(join(pkg, 'package', 'index.js'), source);
  const tarball = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    create({ gzip: true, cwd: pkg, portable: true }, ['package'])
      .on('data', (chunk: Buffer) => chunks.push(chunk))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
  rmSync(pkg, { recursive: true, force: true });
  const requests: string[] = [];
  let url = '';
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    if (token !== null && req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    if (req.url === '/greeting') {
      const version = {
        name: 'greeting',
        version: '1.0.0',
        dist: { tarball: `${url}/greeting/-/greeting-1.0.0.tgz`, shasum: createHash('sha1').update(tarball).digest('hex') },
      };
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ name: 'greeting', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version } }));
    }
    if (req.url === '/greeting/-/greeting-1.0.0.tgz')
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
