// Sample app for dockerfix's e2e tests: answers GET / with NODE_ENV and uid, exits cleanly on SIGTERM.
import * as http from "http";
import ms = require("ms");

const port: number = Number(process.env.PORT || 3000);

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const nodeEnv: string | null = process.env.NODE_ENV || null;
  const uid: number = process.getuid!();
  const pid: number = process.pid;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "ts-build", nodeEnv, uid, pid, url: req.url, uptime: ms(Math.round(process.uptime() * 1000)) }));
}

const server = http.createServer(answer);
server.listen(port, () => console.log(`ts-build listening on ${port}`));

process.on("SIGTERM", () => {
  console.log("SIGTERM received, closing");
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
