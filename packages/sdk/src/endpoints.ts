// Where the services are: one server hosting all four (the embedded default, or any
// all-in-one), or four servers.
export const DEFAULT_ENDPOINT = '127.0.0.1:50051';

export type ServiceEndpoint = 'frames' | 'vma' | 'heap' | 'oom';

export interface Endpoints {
  readonly frames: string;
  readonly vma: string;
  readonly heap: string;
  readonly oom: string;
}

export const allAt = (endpoint: string): Endpoints => ({ frames: endpoint, vma: endpoint, heap: endpoint, oom: endpoint });

/** "HOST:PORT" with a port in 1..65535. Throws with the reason otherwise. */
export function checkEndpoint(s: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${s}" is not HOST:PORT`);
  return s;
}

/** Parses "frames=H:P,vma=H:P,heap=H:P,oom=H:P"; all four are required. */
export function parseEndpoints(spec: string): Endpoints {
  const out: Partial<Record<ServiceEndpoint, string>> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq);
    if (eq < 0 || !['frames', 'vma', 'heap', 'oom'].includes(name)) {
      throw new Error(`--endpoints: "${part}" is not SERVICE=HOST:PORT with SERVICE one of frames, vma, heap, oom`);
    }
    if (out[name as ServiceEndpoint]) throw new Error(`--endpoints: ${name} is given twice`);
    out[name as ServiceEndpoint] = checkEndpoint(part.slice(eq + 1));
  }
  const missing = (['frames', 'vma', 'heap', 'oom'] as const).filter((n) => !out[n]);
  if (missing.length) throw new Error(`--endpoints: missing ${missing.join(', ')} (give all four services)`);
  return out as Endpoints;
}
