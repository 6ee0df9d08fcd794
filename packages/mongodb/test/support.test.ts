// The helpers of the MongoDB conformance suite, which cannot run here: the relay it cuts
// connections with (faults.interrupt), against a plain TCP echo server so that the fault it
// injects is known to be real, and the connection-string rewriting that points clients at it.
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { firstHost, hostAndPort, throughProxy } from "./support/mongodb-url.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

let echo: Server | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  await new Promise((resolve) => (echo ? echo.close(resolve) : resolve(undefined)));
  proxy = undefined;
  echo = undefined;
});

async function startEcho(): Promise<number> {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo?.listen(0, "127.0.0.1", resolve));
  return (echo.address() as AddressInfo).port;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once("data", (data) => resolve(data.toString()));
    socket.once("error", reject);
    socket.write(text);
  });
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => socket.once("close", () => resolve()));

describe("tcp proxy", () => {
  it("relays bytes both ways", async () => {
    proxy = await startTcpProxy("127.0.0.1", await startEcho());
    const socket = await open(proxy.port);
    expect(await roundTrip(socket, "hello")).toBe("hello");
    socket.destroy();
  });

  it("interrupt cuts every open connection, and new connections work afterwards", async () => {
    proxy = await startTcpProxy("127.0.0.1", await startEcho());
    const first = await open(proxy.port);
    const second = await open(proxy.port);
    expect(await roundTrip(first, "a")).toBe("a");
    const cut = Promise.all([closed(first), closed(second)]);
    proxy.interrupt();
    await cut;
    expect(first.destroyed && second.destroyed).toBe(true);

    const third = await open(proxy.port);
    expect(await roundTrip(third, "again")).toBe("again");
    third.destroy();
  });

  it("close stops accepting connections", async () => {
    proxy = await startTcpProxy("127.0.0.1", await startEcho());
    const { port } = proxy;
    await proxy.close();
    proxy = undefined;
    await expect(open(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("connection strings for the relay", () => {
  it("keep credentials, database and options; connect directly to the relay", () => {
    expect(throughProxy("mongodb://127.0.0.1:27017", 4000)).toBe(
      "mongodb://127.0.0.1:4000/?directConnection=true",
    );
    expect(
      throughProxy(
        "mongodb://u%40x:p%2Fw@a:27018,b:27019/auth?replicaSet=rs0&authSource=admin",
        4000,
      ),
    ).toBe("mongodb://u%40x:p%2Fw@127.0.0.1:4000/auth?authSource=admin&directConnection=true");
    expect(() => throughProxy("mongodb+srv://cluster.example.net", 4000)).toThrow(/mongodb:\/\//);
  });

  it("find the first host and split host and port", () => {
    expect(firstHost("mongodb://u:p@a:27018,b:27019/?replicaSet=rs0")).toBe("a:27018");
    expect(hostAndPort("a:27018")).toEqual({ host: "a", port: 27018 });
    expect(hostAndPort("localhost")).toEqual({ host: "localhost", port: 27017 });
    expect(hostAndPort("[::1]:27020")).toEqual({ host: "::1", port: 27020 });
    expect(() => hostAndPort("a:b:c")).toThrow();
  });
});
