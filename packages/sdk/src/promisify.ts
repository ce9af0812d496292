// grpc-js clients take callbacks; the SDK gives promises with the tenant metadata and a
// deadline added to every call.
import { Metadata, type CallOptions, type Client, type ClientReadableStream, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';

type UnaryFn<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (e: ServiceError | null, r: Res) => void) => ClientUnaryCall;
type StreamFn<Req, Res> = (req: Req, md: Metadata, opts?: Partial<CallOptions>) => ClientReadableStream<Res>;

export type Unary<C> = {
  [K in keyof C as C[K] extends UnaryFn<infer _Q, infer _R> ? K : never]: C[K] extends UnaryFn<infer Q, infer R> ? (req: Q) => Promise<R> : never;
};

export interface CallContext {
  readonly tenant: string;
  readonly timeoutMs: number;
}

export function metadataFor(ctx: CallContext): Metadata {
  const md = new Metadata();
  md.set('mmsim-tenant', ctx.tenant);
  return md;
}

export function promisify<C extends Client>(client: C, ctx: CallContext): Unary<C> {
  return new Proxy({} as Unary<C>, {
    get(_t, name: string | symbol) {
      const fn = (client as unknown as Record<string | symbol, unknown>)[name];
      if (typeof fn !== 'function') return undefined;
      return (req: unknown) =>
        new Promise((resolve, reject) => {
          (fn as UnaryFn<unknown, unknown>).call(
            client,
            req,
            metadataFor(ctx),
            { deadline: Date.now() + ctx.timeoutMs },
            (err, res) => (err ? reject(err) : resolve(res)),
          );
        });
    },
  });
}

/** Server-streaming call as an async iterable; cancelled when the loop stops early. */
export async function* serverStream<Req, Res>(client: Client, fn: StreamFn<Req, Res>, req: Req, ctx: CallContext): AsyncGenerator<Res> {
  const call = fn.call(client, req, metadataFor(ctx));
  try {
    for await (const msg of call as AsyncIterable<Res>) yield msg;
  } finally {
    call.cancel();
  }
}
