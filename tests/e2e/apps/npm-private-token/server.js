// Sample app for dockerfix's e2e tests: answers GET / with NODE_ENV and uid, exits cleanly on SIGTERM; installs @acme/secret-lib from a private registry with a token.
const http = require("http");
const { secretLib } = require("@acme/secret-lib");  // private: installed with the token

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "npm-private-token", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(), pid: process.pid, secretLib }));
});

server.listen(port, () => console.log(`npm-private-token listening on ${port}`));

process.on("SIGTERM", () => {
  console.log("SIGTERM received, closing");
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
