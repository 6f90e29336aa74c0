/**
 * Kubernetes resource quantities as faasline's rules read them. Memory takes the byte suffixes (decimal and
 * binary); CPU takes cores or millicores only. Anything else (`100m` of memory, `1Gi` of CPU, `1e3`) is refused
 * rather than guessed at: the embedded gateway would read it as "no limit" and Kubernetes as something huge.
 */
const MEMORY = /^(\d+(?:\.\d+)?)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const CPU = /^(\d+(?:\.\d+)?)(m)?$/;

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A memory quantity (`128Mi`, `1Gi`, `500M`, `268435456`) in bytes, or null when it is not one of at least a byte. */
export function memoryQuantityBytes(quantity: string): number | null {
  const match = MEMORY.exec(quantity);
  if (!match) return null;
  const bytes = Number(match[1]) * (match[2] ? MEMORY_UNITS[match[2]]! : 1);
  return bytes >= 1 ? bytes : null;
}

/** A CPU quantity (`500m`, `1`, `1.5`) in cores, or null when it is not one above zero. */
export function cpuQuantityCores(quantity: string): number | null {
  const match = CPU.exec(quantity);
  if (!match) return null;
  const cores = Number(match[1]) / (match[2] ? 1000 : 1);
  return cores > 0 ? cores : null;
}
