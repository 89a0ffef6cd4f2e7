import type { CliIo } from './cli-context.js';

/** `--json`: one JSON document on stdout, for scripts. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows as aligned columns under a header; `(none)` when there are no rows. */
export function printTable(io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void {
  if (rows.length === 0) {
    io.stdout.write('(none)\n');
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  io.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

/** `key: value` lines, aligned. */
export function printFields(io: CliIo, fields: readonly [string, string][]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  io.stdout.write(`${fields.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n')}\n`);
}
