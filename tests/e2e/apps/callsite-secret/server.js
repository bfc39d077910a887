// Sample app for dockerfix's call-site e2e test: prints what the private package exports.
const { secretLib } = require("@acme/secret-lib");  // private: installed with the token

console.log(JSON.stringify({ app: "callsite-secret", secretLib }));
