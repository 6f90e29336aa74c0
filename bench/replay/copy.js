// COPY ... TO STDOUT and COPY ... FROM STDIN over a plain pg 8 client, without pg-copy-streams: pg runs any
// object with submit() as a query (a "submittable") and hands it the protocol messages of its turn.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';

class CopySubmittable {
  constructor(text, { onCopyIn, onData } = {}) {
    this.text = text;
    this.onCopyIn = onCopyIn;
    this.onData = onData;
    this.rowCount = null;
    this.error = null;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
  submit(connection) {
    connection.query(this.text);
  }
  handleCopyInResponse(connection) {
    this.onCopyIn(connection).then(
      () => connection.endCopyFrom(),
      (error) => {
        this.error = error;
        connection.sendCopyFail(error.message);
      },
    );
  }
  handleCopyData(message) {
    // The chunk is a view of pg's read buffer, which the next socket read overwrites.
    this.onData(Buffer.from(message.chunk));
  }
  handleCommandComplete(message) {
    this.rowCount = Number(/\d+$/.exec(message.text)?.[0] ?? 0);
  }
  handleError(error) {
    // pg drops the query on an error: no ReadyForQuery reaches it after this.
    this.reject(this.error ?? error);
  }
  handleReadyForQuery() {
    if (this.error) this.reject(this.error);
    else this.resolve(this.rowCount);
  }
  handleEmptyQuery() {}
  handleRowDescription() {}
  handleDataRow() {}
  handlePortalSuspended() {}
}

/** `COPY (...) TO STDOUT` into `path`; resolves with the number of rows written. */
export async function copyOutToFile(client, sql, path) {
  const file = createWriteStream(path);
  const copy = new CopySubmittable(sql, { onData: (chunk) => file.write(chunk) });
  client.query(copy);
  const rows = await copy.done;
  file.end();
  await once(file, 'finish');
  return rows;
}

/** `COPY table FROM STDIN` with the bytes of `path` (COPY text format); resolves with the rows loaded. */
export async function copyInFromFile(client, sql, path) {
  const copy = new CopySubmittable(sql, {
    onCopyIn: async (connection) => {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        connection.sendCopyFromChunk(chunk);
        if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
      }
    },
  });
  client.query(copy);
  return copy.done;
}

const unescapes = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One line of COPY text format → its values (null for \N); the dumps here hold no octal or hex escapes. */
export function parseCopyLine(line) {
  return line.split('\t').map((field) => (field === '\\N' ? null : field.includes('\\') ? field.replace(/\\(.)/g, (_, c) => unescapes[c] ?? c) : field));
}
