/**
 * Node-only additions to `@tokens/client`, kept apart so browser bundles never see `node:`
 * imports.
 */
export { fileKeyStore } from "./file-key-store.js";
