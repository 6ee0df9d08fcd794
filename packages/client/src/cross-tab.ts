import type { CrossTabOptions } from "./types.js";

/** What tabs tell each other. Access tokens only; refresh tokens never leave their transport. */
export type CrossTabNews =
  | {
      kind: "tokens";
      accessToken: string;
      /** Whether it is DPoP-bound (sent as `Authorization: DPoP` with a proof). */
      dpop: boolean;
      expiresAt: number;
      refreshAt: number;
    }
  | { kind: "ended"; error: string; error_description?: string };

/** A piece of news as sent: with the id its marker lock names. */
type CrossTabMessage = CrossTabNews & { id: string };

/** Runs refreshes one tab at a time and relays their outcome to the other tabs. */
export interface Coordinator {
  /**
   * Run `work` while holding the origin-wide refresh lock, once any news the previous holder
   * published has arrived here.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Tell the other tabs. Call it inside `exclusive`, and await it before leaving. */
  publish(news: CrossTabNews): Promise<void>;
  close(): void;
}

interface LockLike {
  name: string;
}

interface LockManagerLike {
  request<T>(name: string, callback: (lock: LockLike | null) => Promise<T> | T): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable?: boolean },
    callback: (lock: LockLike | null) => Promise<T> | T,
  ): Promise<T>;
  query(): Promise<{ held?: Array<{ name?: string }> }>;
}

interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

type ChannelConstructor = new (name: string) => ChannelLike;

/** How long to wait for news a marker announced before refreshing anyway (its tab closed). */
const NEWS_GRACE_MS = 1_000;

/**
 * The coordinator for this runtime, or `null` for single-tab behaviour. Looked up when the
 * client is created, never at import: Node and React Native lack one API or both.
 *
 * Why markers: a `BroadcastChannel` message and a Web Locks grant travel separately, so the
 * next lock holder may get the lock before the previous holder's news. Before releasing the
 * lock, a publishing tab therefore also takes a lock named after the news (time and id),
 * which `locks.query()` reports consistently with the lock order. The next holder sees the
 * marker and waits for that news instead of refreshing a second time.
 */
export function createCoordinator(
  setting: boolean | CrossTabOptions | undefined,
  receive: (news: CrossTabNews) => void,
): Coordinator | null {
  const global = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: ChannelConstructor;
    document?: unknown;
  };
  // Opt-in outside documents: in a server process two clients usually belong to two users.
  const enabled = setting === undefined ? typeof global.document === "object" : setting !== false;
  if (!enabled) return null;
  const options = typeof setting === "object" ? setting : {};
  const locks = global.navigator?.locks;
  const Channel = global.BroadcastChannel;
  if (!locks && !Channel) return null;

  const lockName = options.lockName ?? "tokens-refresh";
  const markerPrefix = `${lockName}/news/`;
  const createdAt = Date.now();
  const seen = new Set<string>();
  const waiting = new Map<string, () => void>();
  let releaseMarker: (() => void) | null = null;

  let channel: ChannelLike | null = null;
  if (Channel) {
    channel = new Channel(options.channelName ?? "tokens");
    channel.onmessage = (event) => {
      if (!isMessage(event.data)) return;
      const { id, ...news } = event.data;
      seen.add(id);
      receive(news as CrossTabNews);
      waiting.get(id)?.();
    };
    // Node's BroadcastChannel would otherwise keep the process alive.
    (channel as { unref?: () => void }).unref?.();
  }

  /** Wait for news another tab published while we queued for the lock, if there is any. */
  async function catchUp(manager: LockManagerLike): Promise<void> {
    if (!channel) return;
    const { held = [] } = await manager.query();
    let latest: { at: number; id: string } | null = null;
    for (const lock of held) {
      const [at, id] = (lock.name ?? "").startsWith(markerPrefix)
        ? (lock.name ?? "").slice(markerPrefix.length).split("/")
        : [];
      if (at === undefined || id === undefined) continue;
      if (!latest || Number(at) > latest.at) latest = { at: Number(at), id };
    }
    // Markers older than this client are news it never needed.
    if (!latest || latest.at < createdAt || seen.has(latest.id)) return;
    const id = latest.id;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, NEWS_GRACE_MS);
      function done() {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      }
      waiting.set(id, done);
    });
  }

  /** Hold a lock named after the news until this tab publishes again (or closes). */
  function mark(manager: LockManagerLike, id: string): Promise<void> {
    return new Promise<void>((granted) => {
      void manager.request(`${markerPrefix}${Date.now()}/${id}`, { ifAvailable: true }, (lock) => {
        if (!lock) return granted();
        return new Promise<void>((release) => {
          releaseMarker?.();
          releaseMarker = release;
          granted();
        });
      });
    });
  }

  return {
    exclusive: (work) =>
      locks
        ? locks.request(lockName, async () => {
            await catchUp(locks);
            return work();
          })
        : work(),
    async publish(news) {
      if (!channel) return;
      const id = randomId();
      seen.add(id);
      if (locks) await mark(locks, id);
      channel.postMessage({ ...news, id });
    },
    close: () => {
      channel?.close();
      channel = null;
      releaseMarker?.();
      releaseMarker = null;
      for (const done of waiting.values()) done();
    },
  };
}

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return (
    crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`
  );
}

/** Messages come from any script of the origin: accept only well-formed ones. */
function isMessage(data: unknown): data is CrossTabMessage {
  if (typeof data !== "object" || data === null) return false;
  const message = data as Record<string, unknown>;
  if (typeof message.id !== "string") return false;
  if (message.kind === "tokens") {
    return (
      typeof message.accessToken === "string" &&
      typeof message.dpop === "boolean" &&
      typeof message.expiresAt === "number" &&
      typeof message.refreshAt === "number"
    );
  }
  if (message.kind === "ended") {
    return (
      typeof message.error === "string" &&
      (message.error_description === undefined || typeof message.error_description === "string")
    );
  }
  return false;
}
