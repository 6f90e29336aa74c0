import { stripVTControlCharacters } from 'node:util';

const width = (cell: string) => stripVTControlCharacters(cell).length;

/** Prints rows as aligned columns under upper-case headers (colours do not count as width); the last column is not padded. */
export function printTable<Row extends Record<string, string>>(rows: readonly Row[], columns: ReadonlyArray<keyof Row & string>): void {
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => width(row[column]!))));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell)))).join('  ');
  console.log(line(columns.map((column) => column.toUpperCase())));
  for (const row of rows) console.log(line(columns.map((column) => row[column]!)));
}
