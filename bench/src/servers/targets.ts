import type { ServerTarget } from "../load/protocol.js";

const frameworks = {
  node: "nodeTarget",
  express: "expressTarget",
  fastify: "fastifyTarget",
  hono: "honoTarget",
} as const;
const variants = ["binding", "manual", "fixed"] as const;

/** Servers the load harness can start by name; imported lazily so each loads only its deps. */
export const targets: Record<string, () => Promise<ServerTarget>> = {
  ...Object.fromEntries(
    Object.entries(frameworks).flatMap(([framework, factory]) =>
      variants.map((variant) => [
        `${framework}-${variant}`,
        async () => (await import("./bindings.js"))[factory](variant),
      ]),
    ),
  ),
  minimal: async () => (await import("./minimal.js")).minimalTarget(),
  "core-node": async () => (await import("./core-node.js")).coreNodeTarget(),
  quickstart: async () => (await import("./quickstart.js")).quickstartTarget(),
  "oidc-provider": async () => (await import("./oidc.js")).oidcTarget(),
};
