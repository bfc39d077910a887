// API workspace of the monorepo sample: Express + the shared workspace package.
const express = require("express");
const { uptime } = require("@mono/shared");

const app = express();
const port = Number(process.env.PORT || 3000);
app.get("/", (req, res) => {
  res.json({ app: "workspaces-monorepo", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
             pid: process.pid, uptime: uptime() });
});
const server = app.listen(port, () => console.log(`api listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
