// Sample app for dockerfix's e2e tests: an Express API (real dependency from the npm registry) on an
// end-of-life Node line; it reports the Node.js version it runs on.
const express = require("express");

const app = express();
const port = Number(process.env.PORT || 3000);

app.get("/", (req, res) => {
  res.json({ app: "upgrade-express", node: process.version, nodeEnv: process.env.NODE_ENV || null,
             uid: process.getuid(), pid: process.pid });
});

const server = app.listen(port, () => console.log(`upgrade-express listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
