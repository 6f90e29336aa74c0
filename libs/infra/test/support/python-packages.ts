import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Python packages made on the spot, in a new folder under `work`: PyPI is not reachable from the test machine, and
 * a test that needs one package to install or one build backend to run wants nothing more.
 */

/** A pure-Python wheel `<name>-1.0` whose `<name>/__init__.py` is `initPy`. */
export function pythonWheel(work: string, name: string, initPy = ''): Buffer {
  const out = join(mkdtempSync(join(work, 'wheel-')), `${name}-1.0-py3-none-any.whl`);
  execFileSync('python3', [
    '-c',
    `
import sys, zipfile
name, out, init = sys.argv[1], sys.argv[2], sys.argv[3]
files = {f"{name}/__init__.py": init,
         f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n",
         f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
files[f"{name}-1.0.dist-info/RECORD"] = "".join(f"{path},,\\n" for path in files) + f"{name}-1.0.dist-info/RECORD,,\\n"
with zipfile.ZipFile(out, "w") as z:
    for path, text in files.items(): z.writestr(path, text)
`,
    name,
    out,
    initPy,
  ]);
  return readFileSync(out);
}

/** A source distribution `<name>-1.0.tar.gz` whose in-tree build backend is the module `backendPy`: pip runs it. */
export function sdistWithBackend(work: string, name: string, backendPy: string): Buffer {
  const dir = mkdtempSync(join(work, 'sdist-'));
  const root = join(dir, `${name}-1.0`);
  mkdirSync(root);
  writeFileSync(join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  writeFileSync(join(root, 'pyproject.toml'), `[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n`);
  writeFileSync(join(root, 'backend.py'), backendPy);
  execFileSync('tar', ['-czf', join(dir, `${name}-1.0.tar.gz`), '-C', dir, `${name}-1.0`]);
  return readFileSync(join(dir, `${name}-1.0.tar.gz`));
}
