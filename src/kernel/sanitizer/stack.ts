/**
 * Stack traces for sanitizer reports: captured cheaply (an Error object; V8 formats the text only
 * when `.stack` is first read, so a trace nobody reports costs little), then trimmed so that the
 * user's frames come first: frames inside the emulator's kernel (src/kernel/**, this sanitizer
 * included) and its emulated backend (src/backends/emulated/**) are dropped.
 *
 * Works with V8 ("    at fn (file:///x.js:1:2)") and SpiderMonkey/JavaScriptCore ("fn@file:///x.js:1:2")
 * traces. Where the emulator's own location cannot be found (e.g. everything bundled into one
 * file), nothing is trimmed except the sanitizer's own leading frames.
 */

/** Frames kept per trace. */
export const MAX_FRAMES = 12;
/** Frames captured before trimming (the kernel's own frames come first and are dropped). */
const CAPTURE_FRAMES = 64;

/** V8's Error.stackTraceLimit (absent elsewhere; setting it there is harmless). */
const ErrorCtor = Error as unknown as { stackTraceLimit?: number };

/** The location (URL or path, without :line:col) a frame line points at, or null. */
export function frameLocation(line: string): string | null {
  const t = line.trim();
  if (t === '') return null;
  let loc: string;
  const paren = /\(([^()]*)\)$/.exec(t);
  if (paren !== null) loc = paren[1]!;
  else if (t.startsWith('at ')) loc = t.slice(3);
  else {
    const at = t.lastIndexOf('@');
    if (at < 0) return null;
    loc = t.slice(at + 1);
  }
  return loc.replace(/(:\d+){1,2}$/, '');
}

/** The prefixes of the emulator's own files, found from where this module lives. */
function internalPrefixes(): readonly string[] {
  const text = new Error().stack;
  if (text === undefined) return [];
  for (const line of text.split('\n')) {
    const loc = frameLocation(line);
    if (loc === null) continue;
    const i = loc.lastIndexOf('/kernel/sanitizer/');
    if (i < 0) continue;
    const src = loc.slice(0, i + 1); // ".../src/" (or ".../dist/src/")
    return [`${src}kernel/`, `${src}backends/emulated/`];
  }
  return [];
}

const INTERNAL = internalPrefixes();

function isInternal(loc: string | null): boolean {
  if (loc === null) return false;
  for (const p of INTERNAL) if (loc.startsWith(p)) return true;
  return false;
}

/** Captures the current stack (unformatted). */
export function captureStack(): Error {
  const old = ErrorCtor.stackTraceLimit;
  ErrorCtor.stackTraceLimit = CAPTURE_FRAMES;
  const e = new Error('sanitizer stack');
  ErrorCtor.stackTraceLimit = old;
  return e;
}

/**
 * The frames of a captured stack, the emulator's own frames removed, at most {@link MAX_FRAMES},
 * each as "at <function> (<location>)" / "at <location>" (the engine's text, trimmed).
 */
export function formatStack(e: Error | null): string[] {
  if (e === null) return [];
  const text = e.stack;
  if (text === undefined) return [];
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < MAX_FRAMES; i++) {
    const line = lines[i]!.trim();
    // V8 starts with "Error: message"; other engines start with the first frame
    if (line === '' || (i === 0 && line.startsWith('Error'))) continue;
    const loc = frameLocation(line);
    if (loc === null || isInternal(loc)) continue;
    if (INTERNAL.length === 0 && out.length === 0 && /sanitizer|captureStack/i.test(line)) continue;
    out.push(line);
  }
  return out;
}
