'use strict'
// One call, as the classic watchdog ran the classic template: the request body on standard input, the callback's
// result on standard output (objects as JSON), an error on standard error.
require('./secrets-shim')
const handler = require('./function/handler')

const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  handler(Buffer.concat(chunks).toString('utf8'), (err, res) => {
    if (err) {
      console.error(err)
      // The classic template exited 0 here, answering 200 with whatever was printed: a failure says so instead.
      process.exitCode = 1
      return
    }
    if (res === undefined || res === null) return
    if (typeof res === 'object') return console.log(JSON.stringify(res))
    process.stdout.write(String(res))
  })
})
