// Private package of dockerfix's e2e stack: proves the token-protected install happened.
module.exports = { secretLib: "acme-secret-lib@1.0.0" };
