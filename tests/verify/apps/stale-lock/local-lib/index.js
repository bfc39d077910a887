module.exports = "hi";
