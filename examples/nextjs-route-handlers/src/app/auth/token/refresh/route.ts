import { auth } from "../../../../lib/auth.js";

export const POST = async (request: Request) => (await auth()).refresh(request);
