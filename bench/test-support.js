// Benches reuse the test suite's support (test/support/*.ts: git fixtures, signed GitHub payloads, the strict
// OpenFaaS gateway fake). Node 20 cannot load TypeScript, so these module hooks transpile it on load with the
// project's own compiler (no type check: `npx tsc -b` and the test type-check do that), and map the `.js` a
// TypeScript import names to its `.ts`. `#infra` and the other package imports resolve to dist/, built first.
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import ts from 'typescript';

/** Imports `test/support/<name>.ts` (e.g. `fake-openfaas`). */
export async function importTestSupport(name) {
  if (!registered) {
    register(import.meta.url);
    registered = true;
  }
  return import(new URL(`../test/support/${name}.ts`, import.meta.url).href);
}
let registered = false;

// The hooks themselves (this module is also loaded on the hooks thread by `register`).
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !context.parentURL?.endsWith('.ts') || !specifier.endsWith('.js')) throw error;
    return nextResolve(specifier.replace(/\.js$/, '.ts'), context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, sourceMap: false },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
