import { createTokens, generateSigningKey, InvalidGrantError } from "@tokens/core";
import { memoryStore } from "@tokens/memory";

const tokens = createTokens({
  issuer: "https://auth.example.com",
  audience: "https://api.example.com",
  keys: [await generateSigningKey("EdDSA")], // persist it: JSON.stringify(key)
  store: memoryStore(),
});

// Your login route, after checking the password:
const pair = await tokens.issue({ subject: "user-42", client: { userAgent: "curl/8" } });
// → { access_token, token_type: "Bearer", expires_in: 900, refresh_token: "tokens_rt_…", session }

// Your refresh endpoint: the presented token is spent, a successor comes back.
const next = await tokens.refresh(pair.refresh_token).catch((error: unknown) => {
  if (error instanceof InvalidGrantError) return null; // reused, expired, revoked: log in again
  throw error;
});

// Your API: stateless verification (signature, typ, iss, aud, exp).
if (next) {
  const claims = await tokens.verifyAccessToken(next.access_token);
  await tokens.revokeSubject(claims.sub); // password changed: every session ends
}
