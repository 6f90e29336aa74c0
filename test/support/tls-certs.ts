import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of one certificate: where they are (for BUILDKIT_TLS_*) and what they hold (for a server). */
export type Issued = Readonly<{ certFile: string; keyFile: string; cert: Buffer; key: Buffer }>;

/**
 * A throwaway certificate authority in `dir`, made with the openssl CLI as an operator would for buildkitd: P-256
 * keys, one day of validity. `issue` signs a certificate for the given subjectAltName (`IP:127.0.0.1,DNS:localhost`).
 */
export function certificateAuthority(dir: string, name: string): Issued & { issue: (leaf: string, altNames: string) => Issued } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const files = (base: string): Issued => ({
    certFile: join(dir, `${base}.crt`),
    keyFile: join(dir, `${base}.key`),
    cert: readFileSync(join(dir, `${base}.crt`)),
    key: readFileSync(join(dir, `${base}.key`)),
  });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
  return {
    ...files(name),
    issue: (leaf, altNames) => {
      openssl('req', ...newKey, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${leaf}`);
      writeFileSync(join(dir, `${leaf}.ext`), `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth,clientAuth\n`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${leaf}.csr`,
        '-CA',
        `${name}.crt`,
        '-CAkey',
        `${name}.key`,
        '-CAcreateserial',
        '-out',
        `${leaf}.crt`,
        '-days',
        '1',
        '-extfile',
        `${leaf}.ext`,
      );
      return files(leaf);
    },
  };
}
