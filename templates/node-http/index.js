'use strict'
// The node{{major}} template's server, handler-compatible with the official OpenFaaS one (express there, plain http
// here): `module.exports = async (event, context)`, with context.status(), .headers(), .succeed(), .fail().
// Behind of-watchdog in an image it listens on 3000; the embedded gateway gives it PORT.
const http = require('http')

require('./secrets-shim')

const handler = require('./function/handler')

class FunctionContext {
  constructor (callback) {
    this.statusCode = 200
    this.callback = callback
    this.headerValues = {}
    this.cbCalled = 0
  }

  status (statusCode) {
    if (statusCode === undefined) return this.statusCode
    this.statusCode = statusCode
    return this
  }

  headers (value) {
    if (value === undefined) return this.headerValues
    this.headerValues = value
    return this
  }

  succeed (value) {
    this.cbCalled++
    this.callback(undefined, value)
  }

  fail (value) {
    this.cbCalled++
    this.callback(value, undefined)
  }
}

function parseBody (raw, contentType) {
  if (raw.length === 0) return ''
  if ((contentType || '').includes('application/json')) {
    try {
      return JSON.parse(raw.toString('utf8'))
    } catch {
      return raw.toString('utf8')
    }
  }
  if ((contentType || '').startsWith('text/')) return raw.toString('utf8')
  return raw
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (url.pathname === '/_/health') {
    res.writeHead(200).end('OK')
    return
  }
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', async () => {
    const raw = Buffer.concat(chunks)
    const event = {
      body: parseBody(raw, req.headers['content-type']),
      headers: req.headers,
      method: req.method,
      query: Object.fromEntries(url.searchParams),
      path: url.pathname
    }
    const reply = (err, value) => {
      if (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err))
        return
      }
      const headers = context.headers()
      let body = value
      if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
        body = JSON.stringify(body)
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
      }
      res.writeHead(context.status(), headers).end(body === undefined ? '' : body)
    }
    const context = new FunctionContext(reply)
    try {
      const result = await handler(event, context)
      if (context.cbCalled === 0) reply(undefined, result)
    } catch (err) {
      if (context.cbCalled === 0) reply(err)
    }
  })
})

server.listen(Number(process.env.PORT || 3000), '127.0.0.1')
