import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type CryptoKey, generateKeyPair, SignJWT } from "jose";

/** A token response, as RFC 6749 §5.1 shapes it. */
export interface MinimalResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
}

/**
 * The least a rotating refresh endpoint can do, as the in-memory limit the product is measured
 * against: a SHA-256 lookup in a Map, a delete and an insert for the rotation, and one EdDSA
 * access token signed with jose. No reuse detection, no grace window, no expiry, no events.
 */
export interface Minimal {
  issue(subject: string): Promise<MinimalResponse>;
  /** The next pair, or `null` for a token that is not live. */
  refresh(token: string): Promise<MinimalResponse | null>;
}

const ISSUER = "https://auth.example.com";
const AUDIENCE = "https://api.example.com";

export async function createMinimal(): Promise<Minimal> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const key: CryptoKey = privateKey;
  const live = new Map<string, { subject: string; sid: string }>();
  const hash = (token: string) => createHash("sha256").update(token).digest("base64url");

  async function respond(session: { subject: string; sid: string }): Promise<MinimalResponse> {
    const refreshToken = randomBytes(32).toString("base64url");
    live.set(hash(refreshToken), session);
    const iat = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ client_id: "default", sid: session.sid })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: "minimal" })
      .setIssuer(ISSUER)
      .setSubject(session.subject)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 900)
      .setJti(randomUUID())
      .sign(key);
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: 900,
      refresh_token: refreshToken,
    };
  }

  return {
    issue: (subject) => respond({ subject, sid: randomUUID() }),
    async refresh(token) {
      const spent = hash(token);
      const session = live.get(spent);
      if (!session) return null;
      live.delete(spent);
      return respond(session);
    },
  };
}
