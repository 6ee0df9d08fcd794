/** What the load client sends for one chained refresh. */
export interface RequestSpec {
  method: "POST";
  path: string;
  headers: Record<string, string>;
  /** Body with `{token}` where the client's current refresh token goes. */
  body: string;
  /**
   * JSON field of a 200 answer holding the next refresh token, which the client sends next.
   * Absent: the answer is not read (a fixed-body baseline).
   */
  next?: string;
}

export interface LoadJob {
  type: "run";
  id: number;
  port: number;
  request: RequestSpec;
  /** One refresh token per connection; each connection chains its own. */
  tokens: string[];
  durationSec: number;
}

export interface LoadResult {
  type: "result";
  id: number;
  ok: number;
  failed: number;
  errors: number;
  /** Answers per second that were 2xx. */
  rate: number;
  /** A sample failing answer, to show what went wrong. */
  failure?: string;
}

export type ServerMessage =
  | { type: "ready"; port: number }
  | { type: "seeded"; id: number; tokens: string[] }
  | { type: "error"; message: string };

export type ServerCommand = { type: "seed"; id: number; count: number } | { type: "close" };

/** A server under test, run in a child process by `load/server.ts`. */
export interface ServerTarget {
  /** Starts listening on 127.0.0.1 and returns the port. */
  listen(): Promise<number>;
  /** Opens `count` sessions and returns their refresh tokens. */
  seed(count: number): Promise<string[]>;
  close(): Promise<void>;
}
