// Sample app for dockerfix's e2e tests: a yarn v1 app on the moving node:lts-slim tag.
const http = require("http");
const ms = require("ms");

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "yarn-lts", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
                           pid: process.pid, node: process.versions.node, uptime: ms(Math.round(process.uptime() * 1000)) }));
});

server.listen(port, () => console.log(`yarn-lts listening on ${port}`));
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
