'use strict'
// The classic node template's contract (openfaas/templates-classic): the handler gets the request body as a string,
// and the response is what the call writes to standard output (the callback's result: objects as JSON). As with
// the classic watchdog, every call runs in a process of its own (call.js, the request body on its standard input);
// the handler is loaded here once too, so a handler that fails to load fails the start, not each call. Standard
// error goes to the function's log (into the response too with combine_output=true), and a call the gateway cuts
// short ends with its process and everything it started.
const http = require('http')
const path = require('path')
const { spawn } = require('child_process')
require('./secrets-shim')
require('./function/handler')

const COMBINE_OUTPUT = (process.env.combine_output || '').toLowerCase() === 'true'
const CONTENT_TYPE = process.env.content_type || ''
const CALL = path.join(__dirname, 'call.js')

const canonical = (name) => name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase()).join('-')

/** The classic watchdog's cgi_headers: Http_<Header>, Http_Method, Http_Query, Http_Path. */
function cgiEnvironment (req) {
  const url = new URL(req.url, 'http://localhost')
  const env = {}
  for (const [name, value] of Object.entries(req.headers)) env[`Http_${canonical(name).replace(/-/g, '_')}`] = Array.isArray(value) ? value[0] : value
  env.Http_Method = req.method
  env.Http_Path = url.pathname
  if (url.search.length > 1) env.Http_Query = url.search.slice(1)
  return env
}

http.createServer((req, res) => {
  if (req.url === '/_/health') return res.writeHead(200, { 'x-faasline-watchdog': 'classic' }).end('OK')
  const started = process.hrtime.bigint()
  // The call's process ends with this server (the runtime's parent watch, when there is one, looks for this pid).
  const env = { ...process.env, ...cgiEnvironment(req), FAASLINE_GATEWAY_PID: String(process.pid) }
  const call = spawn(process.execPath, [...process.execArgv, CALL], {
    env,
    stdio: ['pipe', 'pipe', COMBINE_OUTPUT ? 'pipe' : 'inherit'],
    detached: true
  })
  const chunks = []
  call.stdout.on('data', (chunk) => chunks.push(chunk))
  if (COMBINE_OUTPUT) call.stderr.on('data', (chunk) => chunks.push(chunk))
  call.stdin.on('error', () => {})
  req.pipe(call.stdin)
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    try {
      process.kill(-call.pid, 'SIGKILL')
    } catch {}
  }
  // The gateway closed the call (its timeout), or the caller went away: it ends here, with all it started.
  res.once('close', () => !res.writableFinished && end())
  call.once('error', (err) => {
    ended = true
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${err.message}\n`)
  })
  call.once('close', (code, signal) => {
    if (ended) return
    end()
    const out = Buffer.concat(chunks)
    if (code !== 0) {
      const status = signal ? `signal: ${signal}` : `exit status ${code}`
      return res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(Buffer.concat([Buffer.from(`${status}\n`), out]))
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPE || req.headers['content-type'] || 'text/plain; charset=utf-8',
      'x-duration-seconds': (Number(process.hrtime.bigint() - started) / 1e9).toFixed(6)
    }).end(out)
  })
}).listen(Number(process.env.PORT || 3000), '127.0.0.1')
