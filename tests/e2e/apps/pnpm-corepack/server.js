// Sample app for dockerfix's e2e tests: pnpm through corepack, Express.
const express = require("express");

const app = express();
const port = Number(process.env.PORT || 3000);

app.get("/", (req, res) => {
  res.json({ app: "pnpm-corepack", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(),
             pid: process.pid });
});

const server = app.listen(port, () => console.log(`pnpm-corepack listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
