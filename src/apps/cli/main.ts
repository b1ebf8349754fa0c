#!/usr/bin/env node
/**
 * The dmaheap command line (the package's `bin`): src/apps/cli/run.ts on this process.
 */
import { processIo, runCli } from './run.js';

void runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
