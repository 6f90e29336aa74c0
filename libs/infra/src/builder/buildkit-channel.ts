import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ConfigError, type BuildKitTlsFiles } from '../config/config.js';

/**
 * The gRPC channel to buildkitd: plaintext, or TLS with the files of BUILDKIT_TLS_*, read once at start so a missing
 * or unreadable file stops the start naming its variable (never quoting the file: a key must not reach a log).
 */
export function buildkitChannel(tls: BuildKitTlsFiles | null): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  const ca = pem('BUILDKIT_TLS_CA', tls.caFile, 'CERTIFICATE');
  const cert = tls.certFile === null ? null : pem('BUILDKIT_TLS_CERT', tls.certFile, 'CERTIFICATE');
  const key = tls.keyFile === null ? null : pem('BUILDKIT_TLS_KEY', tls.keyFile, 'PRIVATE KEY');
  const { serverName } = tls;
  // Like buildctl's --tlsservername: the daemon's certificate is checked for this name instead of the address's host.
  const verify =
    serverName === null ? {} : { checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(serverName, peer) };
  try {
    return credentials.createSsl(ca, key, cert, verify);
  } catch (error) {
    // OpenSSL's reason ("key values mismatch") names no file content.
    throw new ConfigError(
      'BUILDKIT_TLS_KEY',
      `${tls.keyFile} does not go with BUILDKIT_TLS_CERT ${tls.certFile}: ${(error as Error).message}`,
    );
  }
}

function pem(variable: string, path: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  // "BEGIN CERTIFICATE" and "BEGIN PRIVATE KEY" / "BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY".
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(content.toString('latin1')))
    throw new ConfigError(variable, `${path} is not a PEM ${kind.toLowerCase()}`);
  return content;
}
