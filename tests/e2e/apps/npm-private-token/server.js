// Sample app for dockerfix's e2e tests: answers GET / with NODE_ENV and uid, exits cleanly on SIGTERM; installed with a registry token.
const http = require("http");

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "npm-private-token", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(), pid: process.pid }));
});

server.listen(port, () => console.log(`npm-private-token listening on ${port}`));

process.on("SIGTERM", () => {
  console.log("SIGTERM received, closing");
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
