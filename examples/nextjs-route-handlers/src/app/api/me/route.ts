import { auth } from "../../../lib/auth.js";

export async function GET(request: Request): Promise<Response> {
  const result = await (await auth()).authenticate(request);
  // The 401 with its WWW-Authenticate header, ready to return.
  if (!result.ok) return result.response;
  return Response.json({ sub: result.claims.sub });
}
