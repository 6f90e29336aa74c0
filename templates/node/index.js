'use strict'
// The classic node template's contract (openfaas/templates-classic): the request body as a string in, and the
// callback's result out, objects as JSON. The classic watchdog forked a process per request; this serves HTTP.
const http = require('http')
require('./secrets-shim')
const handler = require('./function/handler')

http.createServer((req, res) => {
  if (req.url === '/_/health') return res.writeHead(200).end('OK')
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    let answered = false
    const callback = (err, result) => {
      if (answered) return
      answered = true
      if (err) return res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err))
      if (result !== null && typeof result === 'object') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
      res.writeHead(200, { 'content-type': 'text/plain' }).end(result === undefined ? '' : String(result))
    }
    try {
      handler(Buffer.concat(chunks).toString('utf8'), callback)
    } catch (err) {
      callback(err)
    }
  })
}).listen(Number(process.env.PORT || 3000), '127.0.0.1')
