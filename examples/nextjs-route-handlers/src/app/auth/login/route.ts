import { auth } from "../../../lib/auth.js";

/** The demo's only account; a real app checks a password hash from its user table. */
const DEMO = { username: "demo", password: "demo", subject: "user_demo" };

export async function POST(request: Request): Promise<Response> {
  const body = (await request
    .clone()
    .json()
    .catch(() => null)) as Record<string, unknown> | null;
  if (body?.username !== DEMO.username || body.password !== DEMO.password) {
    return Response.json({ error: "invalid_credentials" }, { status: 401 });
  }
  return (await auth()).issue(request, { subject: DEMO.subject });
}
