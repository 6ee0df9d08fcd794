import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const HEADER = b64({ alg: "EdDSA", typ: "at+jwt", kid: "raw" });

/**
 * The cheapest way to sign the same access token core signs: JSON, base64url and one
 * synchronous Ed25519 `crypto.sign`. Baseline for the store benchmarks.
 */
export function rawAccessTokenSigner(): (subject: string, sid: string) => string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return (subject, sid) => {
    const iat = Math.floor(Date.now() / 1000);
    const input = `${HEADER}.${b64({
      client_id: "default",
      sid,
      iss: "https://auth.example.com",
      sub: subject,
      aud: "https://api.example.com",
      iat,
      exp: iat + 900,
      jti: randomUUID(),
    })}`;
    return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
  };
}

/** A refresh token and the hash the hand-written rotations store. */
export function rawRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

export function rawHash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
