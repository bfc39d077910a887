// verify test app: its Dockerfile writes ARG NPM_TOKEN into .npmrc in one layer.
const http = require("http");
http.createServer((req, res) => res.end("ok")).listen(Number(process.env.PORT || 3000));
process.on("SIGTERM", () => process.exit(0));
