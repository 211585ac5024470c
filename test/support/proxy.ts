/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis), which a test cuts and restores to
 * cause an outage for real: while cut, it accepts nothing and the connections through it are gone.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Proxy {
  port: number;
  /** Connections the proxy has taken since it started (attempts made while cut are refused by the OS). */
  readonly connections: number;
  /** Drops every connection and stops listening: clients see resets, then refused connections. */
  cut(): Promise<void>;
  /** Keeps listening but hangs up on every connection at once (attempts are counted). */
  drop(): void;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /**
   * Keeps what the server sends (its bytes and its hang-up) from the clients, and what they send
   * from the server, until `release()`: a client then reads what the server said before it heard
   * the client's request, as when their messages cross on the wire.
   */
  hold(): void;
  /** Resolves at the first byte a client sends while held. */
  clientSent(): Promise<void>;
  /** Delivers what the server sent while held, in order, and passes bytes both ways again. */
  release(): void;
  close(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let dropping = false;
  /** While held: what to do for the clients on release, and who waits for a client's bytes. */
  let held: { kept: (() => void)[]; sent: (() => void)[] } | undefined;
  const toClient = (deliver: () => void) => (held ? held.kept.push(deliver) : deliver());
  const handle = (client: Socket) => {
    connections++;
    if (dropping) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    client.on("data", (chunk) => {
      if (!held) upstream.write(chunk);
      else for (const resolve of held.sent.splice(0)) resolve();
    });
    upstream.on("data", (chunk) => toClient(() => client.write(chunk)));
    upstream.on("end", () => toClient(() => client.end()));
    client.on("close", () => upstream.destroy());
    // After an end, once its bytes are out: destroying at once could drop what is still queued.
    upstream.on("close", () =>
      toClient(() =>
        client.writableEnded && !client.writableFinished ? client.once("finish", () => client.destroy()) : client.destroy(),
      ),
    );
  };
  let server: Server = createServer(handle);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    port,
    get connections() {
      return connections;
    },
    cut: stop,
    drop() {
      dropping = true;
      for (const socket of sockets) socket.destroy();
    },
    async restore() {
      if (dropping) {
        dropping = false;
        return;
      }
      server = createServer(handle);
      await listen(port);
    },
    close: stop,
    hold() {
      held ??= { kept: [], sent: [] };
    },
    clientSent: () => new Promise<void>((resolve) => (held ? held.sent.push(resolve) : resolve())),
    release() {
      const kept = held?.kept ?? [];
      held = undefined;
      for (const deliver of kept) deliver();
    },
  };
}
