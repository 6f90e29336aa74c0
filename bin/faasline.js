#!/usr/bin/env node
// The faasline command line lives in apps/cli (TypeScript); this shim runs its build.
import { existsSync } from 'node:fs';

const main = new URL('../dist/apps/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('faasline: faasline is not built yet: run npm run build (npm start builds it too)');
  process.exit(1);
}
await import(main.href);
