import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";
import type { ServerTarget } from "../load/protocol.js";
import { close, listen } from "./common.js";

const RESOURCE = "https://api.example.com";
const CLIENT_ID = "bench";

/**
 * node-oidc-provider with the same flow as ours: a public client refreshing with rotation on,
 * JWT (EdDSA) access tokens for one resource, the in-memory adapter, no ID token.
 */
export async function oidcTarget(): Promise<ServerTarget> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "bench", alg: "EdDSA", use: "sig" };
  const provider = new Provider("https://auth.example.com", {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        grant_types: ["refresh_token", "authorization_code"],
        redirect_uris: ["https://client.example.com/cb"],
        response_types: ["code"],
        id_token_signed_response_alg: "EdDSA",
      },
    ],
    jwks: { keys: [jwk as never] },
    rotateRefreshToken: true,
    scopes: ["offline_access", "api"],
    ttl: { AccessToken: 900, RefreshToken: 30 * 86_400, Grant: 30 * 86_400 },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "api",
          audience: RESOURCE,
          accessTokenFormat: "jwt",
          accessTokenTTL: 900,
          jwt: { sign: { alg: "EdDSA" } },
        }),
      },
    },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  const client = await provider.Client.find(CLIENT_ID);
  if (!client) throw new Error("oidc-provider: bench client missing");

  // A refresh token as the authorization-code grant would have left it, written straight to the
  // adapter (the login flow itself is not what is measured).
  async function seedOne(i: number): Promise<string> {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
    grant.addOIDCScope("offline_access");
    grant.addResourceScope(RESOURCE, "api");
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId,
      grantId,
      client,
      scope: "offline_access api",
      resource: RESOURCE,
      gty: "authorization_code",
      expiresWithSession: false,
    } as never);
    return token.save();
  }

  const server = createServer(provider.callback());
  return {
    listen: () => listen(server),
    seed: (count) => Promise.all(Array.from({ length: count }, (_, i) => seedOne(i))),
    close: () => close(server),
  };
}
