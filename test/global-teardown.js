export default async function globalTeardown() {
  await globalThis.__THROWAWAY_PG__?.stop();
}
