/**
 * A client trace written to a file as JSON lines ({@link DmaHeapClientOptions.trace}): one
 * {@link ClientTraceEvent} per line. `DMAHEAP_CLIENT_TRACE=<file>` turns it on for the clients
 * the CLI makes (`dmaheap alloc`, `dmaheap demo`); a program of one's own passes
 * `openClientTrace(file).trace` as the client's `trace` option, on either backend.
 * `dmaheap simulate` replays the file (docs/replay.md).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { ClientTraceEvent, DmaHeapClientOptions } from '../../api/client.js';
import { CliError } from './args.js';

/** The environment variable naming the CLI's client trace file. */
export const CLIENT_TRACE_ENV = 'DMAHEAP_CLIENT_TRACE';

export interface ClientTraceFile {
  readonly path: string;
  /** Writes one event as a line (synchronously: nothing is lost when the process ends). */
  readonly trace: (ev: ClientTraceEvent) => void;
  /** Closes the file; later events are dropped. */
  close(): void;
}

/**
 * Opens (truncates) `path` for a client trace.
 * @throws CliError when the file cannot be written
 */
export function openClientTrace(path: string): ClientTraceFile {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new CliError('ETRACE', `cannot write the client trace to ${path}: ${e instanceof Error ? e.message : String(e)}`, `give ${CLIENT_TRACE_ENV} a file in a directory that exists and that you may write to`);
  }
  let open = true;
  return {
    path,
    trace: (ev) => {
      if (open) writeSync(fd, `${JSON.stringify(ev)}\n`);
    },
    close: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** The file of `DMAHEAP_CLIENT_TRACE`, opened once per process (the process's end closes it). */
let fromEnv: ClientTraceFile | null = null;

/**
 * The client options the CLI's clients get from the environment: `{ trace }` when
 * `DMAHEAP_CLIENT_TRACE` names a file, else none.
 * @throws CliError when the file cannot be written
 */
export function clientTraceOptions(env: NodeJS.ProcessEnv = process.env): DmaHeapClientOptions {
  const path = env[CLIENT_TRACE_ENV];
  if (path === undefined || path === '') return {};
  if (fromEnv === null || fromEnv.path !== path) {
    fromEnv?.close();
    fromEnv = openClientTrace(path);
  }
  return { trace: fromEnv.trace };
}
