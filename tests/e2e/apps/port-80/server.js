// Sample app for dockerfix's e2e tests: listens on port 80 (below 1024).
const http = require("http");
const ms = require("ms");

const port = Number(process.env.PORT || 80);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "port-80", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
                           pid: process.pid, uptime: ms(Math.round(process.uptime() * 1000)) }));
});
server.listen(port, () => console.log(`port-80 listening on ${port}`));
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
