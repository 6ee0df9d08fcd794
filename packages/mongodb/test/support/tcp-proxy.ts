import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/** A TCP relay in front of a real server, whose connections can be cut at will. */
export interface TcpProxy {
  /** The local port clients connect to. */
  readonly port: number;
  /** Destroys every open connection (both sides); new connections are still accepted. */
  interrupt(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a relay on 127.0.0.1 that forwards every connection to `host:port`. Cutting its
 * sockets is what a server restart, a network partition or an administrator killing the
 * connections does to a client: in-flight operations fail with a network error and the driver
 * has to reconnect. The server behind it stays real; only the wire is cut.
 */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((downstream) => {
    const upstream = connect(port, host);
    track(downstream);
    track(upstream);
    // Either side failing or closing takes the other with it, as a dropped connection would.
    const drop = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const interrupt = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    interrupt,
    close: () =>
      new Promise<void>((resolve, reject) => {
        interrupt();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
