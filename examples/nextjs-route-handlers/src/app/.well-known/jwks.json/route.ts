import { auth } from "../../../lib/auth.js";

export const GET = async (request: Request) => (await auth()).jwks(request);
