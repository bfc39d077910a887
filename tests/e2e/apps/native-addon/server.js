// Sample app for dockerfix's e2e tests: answers with the result of a compiled C++ addon.
const http = require("http");
const { hello } = require("./build/Release/hello.node");

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "native-addon", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
                           pid: process.pid, native: hello() }));
});
server.listen(port, () => console.log(`native-addon listening on ${port}`));
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
