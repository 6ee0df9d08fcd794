export { createQuickstart, type Quickstart, type QuickstartOptions } from "./app.js";
export { ConfigError, loadConfig, type QuickstartConfig } from "./config.js";
export { loadSigningKeys } from "./keys.js";
export { type OpenStore, openStore } from "./store.js";
