import { execFileSync } from 'node:child_process';

/** The owner and repository of a GitHub remote URL, in https (`https://github.com/o/r.git`) or ssh (`git@github.com:o/r.git`, `ssh://git@github.com/o/r`) form; null for anything else. */
export function githubRemote(url: string): { owner: string; repo: string } | null {
  const match =
    /^(?:https?:\/\/(?:[^@/]+@)?(?:www\.)?github\.com\/|ssh:\/\/(?:[^@/]+@)?github\.com(?::\d+)?\/|(?:[^@/]+@)?github\.com:)([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(
      url.trim(),
    );
  return match ? { owner: match[1]!, repo: match[2]! } : null;
}

/** The URL of the `origin` remote of the git repository holding `folder`, or null (no repository, no origin). */
export function originRemoteOf(folder: string): string | null {
  try {
    return execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: folder, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}
