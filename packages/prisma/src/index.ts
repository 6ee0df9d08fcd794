export type { PrismaTokensClient } from "./client.js";
export { type PrismaStoreOptions, prismaStore } from "./store.js";
