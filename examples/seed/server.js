// A tiny HTTP server.  Deliberately without a termination-signal handler (see dockerfix reports).
const http = require("http");

const port = Number(process.env.PORT) || 3000;

http
  .createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("hello from seed\n");
  })
  .listen(port, () => {
    console.log(`listening on ${port}`);
  });
