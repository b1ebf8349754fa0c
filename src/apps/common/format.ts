/** Human-readable sizes and tables for the CLI. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  if (i === 0 && n >= 1024) {
    let f = n;
    let j = 0;
    while (f >= 1024 && j < units.length - 1) {
      f /= 1024;
      j++;
    }
    return `${f.toFixed(1)} ${units[j]}`;
  }
  return `${v} ${units[i]}`;
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
