// An HTTP proxy for tests, as a corporate one: it tunnels (CONNECT host:port, which undici's proxy
// agent uses for http:// and https:// alike) and records what it was asked; any other request is
// recorded and refused. Names the test invents (gitlab.test) resolve through `hosts`, so a call to
// them can only succeed through the proxy. Also a TLS front: a server that speaks TLS with a given
// certificate and passes the bytes on to a plain simulator.
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";

export interface TestProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `CONNECT host:port` of each tunnel, or `<METHOD> <url>` of a refused plain request, in order. */
  requests: string[];
  close(): Promise<void>;
}

function closeServer(server: Server | ReturnType<typeof createTlsServer>, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startTestProxy(hosts: Record<string, string> = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(501, { "Content-Type": "text/plain" }).end("this proxy only tunnels (CONNECT)");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    requests.push(`CONNECT ${target}`);
    const colon = target.lastIndexOf(":");
    const host = target.slice(0, colon);
    const upstream = connect(Number(target.slice(colon + 1)), hosts[host] ?? host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    client.on("error", () => upstream.destroy());
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}`, requests, close: () => closeServer(server, sockets) };
}

export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/** TLS with `key` and `cert` on a port of its own, in front of a plain server at 127.0.0.1:`targetPort`. */
export async function startTlsFront(targetPort: number, tls: { key: string; cert: string }): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  const server = createTlsServer(tls, (secure) => {
    const plain = connect(targetPort, "127.0.0.1");
    secure.pipe(plain).pipe(secure);
    plain.on("error", () => secure.destroy());
    secure.on("error", () => plain.destroy());
    sockets.add(plain);
    plain.on("close", () => sockets.delete(plain));
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return { port, close: () => closeServer(server, sockets) };
}
