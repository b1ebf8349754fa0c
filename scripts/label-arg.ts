/** `--label X` of the compare scripts (conformance-compare, peer-compare): the label and the other arguments. */
export function takeLabel(argv: readonly string[]): { label: string; args: string[] } {
  const args = [...argv];
  let label = '';
  const li = args.indexOf('--label');
  if (li >= 0) {
    label = args[li + 1] ?? '';
    args.splice(li, 2);
  }
  return { label, args };
}
