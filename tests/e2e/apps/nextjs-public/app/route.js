// GET / answers with what dockerfix's e2e tests check (a route handler, rendered per request).
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ app: "nextjs-public", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
                         pid: process.pid });
}
