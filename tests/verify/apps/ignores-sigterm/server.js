// verify test app: traps SIGTERM and ignores it, so `docker stop` has to SIGKILL it.
const http = require("http");
http.createServer((req, res) => res.end("ok")).listen(Number(process.env.PORT || 3000));
process.on("SIGTERM", () => console.log("SIGTERM ignored"));
