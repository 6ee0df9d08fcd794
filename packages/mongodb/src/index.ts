export type { MongoStoreOptions } from "./collections.js";
export type { SessionDocument } from "./documents.js";
export { ensureIndexes } from "./indexes.js";
export { mongoStore } from "./store.js";
