/**
 * The line of an npm or pip failure that says what went wrong, for the BuildFailed reason. Both tools end with
 * boilerplate (`npm error A complete log of this run can be found in …`, `npm error 404 tarball, folder, http url,
 * or git url.`): the meaningful line is the first real one, not the last.
 */

/** Whether a line of a tool's output is one of its error lines (the only ones `toolErrorLine` looks at). */
export const isToolErrorLine = (line: string) => /^\s*(npm (ERR!|error)|ERROR:|error:)/.test(line);

/** npm lines that frame an error rather than state it: its code, the errno, the path, the log file, a bare `404`. */
const NPM_FRAME =
  /^(code|errno|syscall|path|signal|command) |^A complete log of this run|^Log files were not written|^\d*$|^(\d+ )?(Note that you can also install|tarball, folder, http url)/;

const MAX_LINE = 300;

/** The meaningful line among a failed tool's error lines (in order), or null when it printed none. */
export function toolErrorLine(lines: readonly string[]): string | null {
  const errors = lines.map((line) => line.trim()).filter(isToolErrorLine);
  const npm = errors.filter((line) => /^npm (ERR!|error)/.test(line));
  const npmText = (line: string) => line.replace(/^npm (ERR!|error)\s?/, '').trim();
  const pick =
    // A missing package: `npm error 404 Not Found - GET https://registry.npmjs.org/nope - Not found`.
    npm.find((line) => /^404 Not Found\b/.test(npmText(line))) ??
    npm.find((line) => !NPM_FRAME.test(npmText(line))) ??
    // Only the frame was printed: its code (`npm error code E404`) still says more than the log file's path.
    npm.find((line) => /^code /.test(npmText(line))) ??
    // pip: `ERROR: Could not find a version that satisfies the requirement nope (from versions: none)`.
    errors.find((line) => /^ERROR: Could not find a version that satisfies/.test(line)) ??
    errors.find((line) => line.startsWith('ERROR:')) ??
    errors.at(-1) ??
    null;
  return pick === null ? null : pick.slice(0, MAX_LINE);
}

/**
 * A BuildKit solve's failure (`process "/bin/sh -c npm install" did not complete successfully: exit code: 1`) with
 * the meaningful line of the tool that failed in front, where a cut commit status still shows it.
 */
export function withToolError(message: string, lines: readonly string[]): string {
  const meaningful = toolErrorLine(lines);
  return meaningful === null ? message : `${meaningful} (${message})`;
}
