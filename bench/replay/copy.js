// COPY ... TO STDOUT and COPY ... FROM STDIN through pg-copy-streams, as the projector's shadow loader does.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/** `COPY (...) TO STDOUT` into `path`; resolves with the number of rows written. */
export async function copyOutToFile(client, sql, path) {
  const copy = client.query(copyTo(sql));
  await pipeline(copy, createWriteStream(path));
  return copy.rowCount;
}

/** `COPY table FROM STDIN` with the bytes of `path` (COPY text format); resolves with the rows loaded. */
export async function copyInFromFile(client, sql, path) {
  const copy = client.query(copyFrom(sql));
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), copy);
  return copy.rowCount;
}

const unescapes = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One line of COPY text format → its values (null for \N); the dumps here hold no octal or hex escapes. */
export function parseCopyLine(line) {
  return line
    .split('\t')
    .map((field) => (field === '\\N' ? null : field.includes('\\') ? field.replace(/\\(.)/g, (_, c) => unescapes[c] ?? c) : field));
}
