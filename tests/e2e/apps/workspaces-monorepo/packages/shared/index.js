// Shared workspace package of the monorepo sample.
const ms = require("ms");
module.exports = { uptime: () => ms(Math.round(process.uptime() * 1000)) };
