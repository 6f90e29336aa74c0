/** The logging port: one line per call, never a secret. */
export type Logger = Readonly<{
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}>;

export const consoleLogger = (component: string): Logger => ({
  info: (message) => console.log(`[${component}] ${message}`),
  warn: (message) => console.warn(`[${component}] ${message}`),
  error: (message) => console.error(`[${component}] ${message}`),
});

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
