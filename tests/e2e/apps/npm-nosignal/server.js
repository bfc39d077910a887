// Sample app for dockerfix's e2e tests: answers GET / with NODE_ENV and uid; no SIGTERM handler (node as PID 1 ignores it).
const http = require("http");

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ app: "npm-nosignal", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid(), pid: process.pid }));
});

server.listen(port, () => console.log(`npm-nosignal listening on ${port}`));

