// Reads a request body once, up to a limit, before anything parses it; the bytes are left on the
// context (`c.get("body")`) for the handler. As Hono's `bodyLimit`, but the body is read straight
// from Node's request where there is one: building the web Request stream for it costs more than
// the rest of the webhook route (see bench/).
import type { IncomingMessage } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import type { Context, MiddlewareHandler } from "hono";

export interface BodyVariables {
  /** The request body, at most the limit's bytes. */
  body: Uint8Array;
}

export interface BodyLimitOptions {
  maxBytes: number;
  /** The answer to a body over the limit (declared in Content-Length or streamed). */
  onTooLarge: (c: Context) => Response | Promise<Response>;
}

/** Collects chunks, stopping as soon as they pass `maxBytes` (chunked bodies have no Content-Length). */
async function collectLimited(chunks: AsyncIterable<Uint8Array>, maxBytes: number, stop: () => void): Promise<Uint8Array | "too_large"> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      stop();
      return "too_large";
    }
    parts.push(chunk);
  }
  return concatenated(parts, size);
}

function concatenated(parts: Uint8Array[], size: number): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/**
 * From Node's request through its events: an async iterator over it costs more per request than the
 * rest of the read. The rest of a body over the limit is drained unread.
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | "too_large"> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        finish();
        incoming.resume();
        resolve("too_large");
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => (finish(), resolve(concatenated(parts, size)));
    const onError = (error: Error) => (finish(), reject(error));
    const onClose = () => (incoming.readableEnded ? onEnd() : (finish(), reject(new Error("the request was closed before its body ended"))));
    const finish = () => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    };
    if (incoming.readableEnded) return resolve(new Uint8Array());
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** Under @hono/node-server, from Node's request; elsewhere (tests with app.request()) from the web Request. */
function readLimited(request: Request, env: unknown, maxBytes: number): Promise<Uint8Array | "too_large"> {
  const incoming = (env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming && typeof incoming.on === "function") return readIncoming(incoming, maxBytes);
  if (!request.body) return Promise.resolve(new Uint8Array());
  const reader = request.body.getReader();
  const iterate = async function* () {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  };
  return collectLimited(iterate(), maxBytes, () => void reader.cancel().catch(() => {}));
}

export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler<{ Variables: BodyVariables }> {
  const { maxBytes, onTooLarge } = options;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError(`bodyLimit: maxBytes must be a positive whole number, not ${maxBytes}`);
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > maxBytes) return onTooLarge(c);
    const bytes = await readLimited(c.req.raw, c.env, maxBytes);
    if (bytes === "too_large") return onTooLarge(c);
    c.set("body", bytes);
    await next();
  };
}
