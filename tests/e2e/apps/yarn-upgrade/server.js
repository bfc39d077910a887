// Sample app for dockerfix's e2e tests: yarn v1 app on node:20 (end of life).
const fs = require("fs");
const http = require("http");
const path = require("path");
const ms = require("ms");

const port = Number(process.env.PORT || 3000);
const dirs = [];

function writable(dir) {
  try {
    const probe = path.join(dir, `probe-${process.pid}`);
    fs.writeFileSync(probe, "ok");
    fs.unlinkSync(probe);
    return true;
  } catch (err) {
    return err.code || String(err);
  }
}

const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "yarn-upgrade", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
                           pid: process.pid, uptime: ms(Math.round(process.uptime() * 1000)),
                           writable: Object.fromEntries(dirs.map((d) => [d, writable(d)])) }));
});
server.listen(port, () => console.log(`yarn-upgrade listening on ${port}`));
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
