/*
 * What every restart test shares, whatever the server: a free loopback port to start it on, and
 * the progress of the clients driven through its outage. No driver imports, so the MongoDB
 * package's restart test uses it too.
 */
import { type AddressInfo, createServer } from "node:net";

/**
 * A loopback port nothing listens on right now.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** When a request was sent: before the stop, from the stop until the restart, after it. */
export type Phase = "before" | "outage" | "after";

/** A count per phase. */
export type Tally = Record<Phase, number>;

/**
 * A tally at zero.
 *
 * @example
 * ```ts
 * const ok = tally();
 * ok[progress.phase]++;
 * ```
 */
export const tally = (): Tally => ({ before: 0, outage: 0, after: 0 });

/**
 * Shared progress of one run: clients report, the conductor waits on conditions over them.
 *
 * @example
 * ```ts
 * const progress = new Progress();
 * await progress.until(() => clients.every((client) => client.ok.before >= 3));
 * ```
 */
export class Progress {
  phase: Phase = "before";
  readonly unexpected: string[] = [];
  private waiting: Array<() => void> = [];

  report(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Resolves once `condition` holds, or as soon as anything unexpected was seen. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition() && this.unexpected.length === 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
}
