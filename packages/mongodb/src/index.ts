export type { MongoStoreOptions } from "./collections.js";
export type { SessionDocument, TokenDocument } from "./documents.js";
export { type EnsureIndexesOptions, ensureIndexes } from "./indexes.js";
export { mongoStore } from "./store.js";
