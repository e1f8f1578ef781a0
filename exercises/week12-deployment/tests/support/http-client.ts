import http from "node:http";
import net from "node:net";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client socket the reply came on, to watch whether the server closes it. */
  socket: net.Socket;
}

/** One GET on loopback; with an agent, keep-alive sockets are reused and kept. */
export function get(port: number, path: string, agent: http.Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket | undefined;
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket: socket! }));
      res.on("error", reject);
    });
    req.on("socket", (s) => (socket = s));
    req.on("error", reject);
  });
}

/** Whether a new TCP connection to the port is refused right now. */
export function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/** Polls until the port refuses connections; resolves with performance.now() at the first refusal. */
export async function firstRefusal(port: number, boundMs: number, why: string): Promise<number> {
  const until = performance.now() + boundMs;
  while (performance.now() < until) {
    if (await refuses(port)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(why);
}

/** Settles with the promise, or fails with `why` after `ms`. */
export async function within<T>(promise: PromiseLike<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
