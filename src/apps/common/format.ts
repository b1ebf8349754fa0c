/** Human-readable sizes and tables for the CLI. */
/** 4096 → "4 KiB", 1 GiB + 512 MiB → "1.5 GiB": the largest unit, exact when it divides. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (i < units.length - 1 && Math.abs(n) >= 1024 ** (i + 1)) i++;
  const v = n / 1024 ** i;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
