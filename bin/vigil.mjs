#!/usr/bin/env node
// The `vigil` command: runs the TypeScript CLI through tsx's loader, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../api/cli.ts');
process.exitCode = await runCli(process.argv.slice(2));
