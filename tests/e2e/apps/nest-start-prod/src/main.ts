// Sample app for dockerfix's e2e tests, laid out like a NestJS project: dist/main.js, start:prod.
import "reflect-metadata";
import * as http from "http";
import ms = require("ms");

function Route(path: string): MethodDecorator {
  return (target, key) => Reflect.defineMetadata("route", path, target, key);
}

class AppController {
  @Route("/")
  status(): object {
    return { app: "nest-start-prod", nodeEnv: process.env.NODE_ENV || null, uid: process.getuid!(),
             pid: process.pid, uptime: ms(Math.round(process.uptime() * 1000)) };
  }
}

const controller = new AppController();
const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(controller.status()));
});
server.listen(port, () => console.log(`nest-start-prod listening on ${port}`));
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
