#!/usr/bin/env node
// Entry point of the `oreo` command; the TypeScript sources are compiled to dist/ at install.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
