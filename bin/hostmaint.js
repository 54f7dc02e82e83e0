#!/usr/bin/env node
// hostmaint entry point: runs the compiled CLI (npm run build produces dist/).
import { runCli } from '../dist/cli/main.js';
import { processIO } from '../dist/cli/io.js';

const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
