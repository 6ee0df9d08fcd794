import {
  createTokens,
  generateSigningKey,
  type SigningKey,
  type TokenStore,
  type TokensEvent,
} from "@tokens/core";

declare const store: TokenStore;
declare function alertSecurityTeam(event: TokensEvent): void;
declare function auditLog(event: TokensEvent): void;

// #region generate
// Once, offline: create a key and keep the JSON in your secret manager.
const key = await generateSigningKey("EdDSA", { kid: "2026-11" });
console.log(JSON.stringify(key)); // → TOKENS_SIGNING_KEYS='[{"kty":"OKP",…}]'
// #endregion

// #region rotate
// Rotation: deploy with both keys, the new one active. Tokens signed with the old key keep
// verifying, and so do refresh tokens tagged under it: remove it after refreshIdleTtl.
const keys = JSON.parse(process.env.TOKENS_SIGNING_KEYS ?? "[]") as SigningKey[];
const tokens = createTokens({
  issuer: "https://auth.example.com",
  audience: "https://api.example.com",
  keys, // [newKey, oldKey]
  activeKeyId: "2026-11",
  store,
  // #endregion
  // #region events
  onEvent(event) {
    auditLog(event); // every event: created, rotated, grace replay, revoked…
    if (event.type === "reuse_detected" || event.type === "binding_mismatch")
      alertSecurityTeam(event);
  },
  // #endregion
});

// #region purge
// A periodic job (cron, a timer in one instance): deletes sessions that ended more than
// `purgeRetention` ago, in batches of 500, each a short statement.
setInterval(
  () => {
    tokens.purge().catch((error: unknown) => console.error("purge failed", error));
  },
  60 * 60 * 1000,
);

// #endregion

export { key };
