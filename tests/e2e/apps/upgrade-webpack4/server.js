// Sample app for dockerfix's e2e tests: serves the bundle webpack 4 built at image build time
// (`npm run build` -> dist/main.js) and, at /, a JSON answer naming the Node.js version.
const fs = require("fs");
const http = require("http");
const path = require("path");

const port = Number(process.env.PORT || 3000);
const bundle = fs.readFileSync(path.join(__dirname, "dist", "main.js"));

const server = http.createServer((req, res) => {
  if (req.url === "/main.js") {
    res.setHeader("Content-Type", "text/javascript");
    res.end(bundle);
    return;
  }
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "upgrade-webpack4", node: process.version, nodeEnv: process.env.NODE_ENV || null,
                           uid: process.getuid(), pid: process.pid, bundleBytes: bundle.length }));
});
server.listen(port, () => console.log(`upgrade-webpack4 listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
