// Sample app for dockerfix's e2e tests: an Express API (real dependency from the npm registry).
const express = require("express");
const ms = require("ms");

const app = express();
const port = Number(process.env.PORT || 3000);

app.get("/", (req, res) => {
  res.json({ app: "express-api", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
             pid: process.pid, uptime: ms(Math.round(process.uptime() * 1000)) });
});

const server = app.listen(port, () => console.log(`express-api listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
