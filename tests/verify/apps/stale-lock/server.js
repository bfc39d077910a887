// verify test app: package.json depends on ./local-lib, which package-lock.json does not list yet.
const http = require("http");
const greeting = require("local-lib");
http.createServer((req, res) => res.end(greeting)).listen(Number(process.env.PORT || 3000));
