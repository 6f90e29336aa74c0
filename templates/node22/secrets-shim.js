'use strict'
// Handlers read secrets from /var/openfaas/secrets/<name>, as on OpenFaaS; locally they live elsewhere.
const fs = require('fs')
const path = require('path')
const secretsDir = process.env.FAASLINE_SECRETS_DIR
if (secretsDir) {
  const prefix = '/var/openfaas/secrets/'
  const redirect = (file) => (typeof file === 'string' && file.startsWith(prefix) ? path.join(secretsDir, path.basename(file)) : file)
  for (const name of ['readFileSync', 'existsSync', 'statSync']) {
    const original = fs[name]
    fs[name] = (file, ...rest) => original.call(fs, redirect(file), ...rest)
  }
  const readFile = fs.readFile
  fs.readFile = (file, ...rest) => readFile.call(fs, redirect(file), ...rest)
  const promisesReadFile = fs.promises.readFile
  fs.promises.readFile = (file, ...rest) => promisesReadFile.call(fs.promises, redirect(file), ...rest)
}
