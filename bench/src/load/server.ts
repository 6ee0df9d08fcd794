/**
 * Child-process entry for one server under test: `server.ts <target>`. Reports its port over
 * IPC, opens sessions on request (outside the measured requests) and exits on `close`.
 */
import { targets } from "../servers/targets.js";
import type { ServerCommand, ServerMessage } from "./protocol.js";

const send = (message: ServerMessage) => process.send?.(message);
const name = process.argv[2] ?? "";
const make = targets[name];

async function main(): Promise<void> {
  if (!make)
    throw new Error(`unknown target "${name}"; targets: ${Object.keys(targets).join(", ")}`);
  const target = await make();
  const port = await target.listen();
  process.on("message", (message: ServerCommand) => {
    if (message.type === "close") {
      target.close().finally(() => process.exit(0));
      return;
    }
    target.seed(message.count).then(
      (tokens) => send({ type: "seeded", id: message.id, tokens }),
      (error: Error) => send({ type: "error", message: error.message }),
    );
  });
  send({ type: "ready", port });
}

main().catch((error: Error) => {
  send({ type: "error", message: error.stack ?? error.message });
  process.exit(1);
});
