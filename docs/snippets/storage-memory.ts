import { createTokens, generateSigningKey } from "@tokens/core";
import { memoryStore } from "@tokens/memory";

// Tests, local development, single-process apps: every session is lost on restart.
export const tokens = createTokens({
  issuer: "https://auth.example.com",
  audience: "https://api.example.com",
  keys: [await generateSigningKey("EdDSA")],
  store: memoryStore(),
});
