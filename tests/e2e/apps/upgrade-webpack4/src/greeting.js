export function greeting(who) {
  return `built by ${who}`;
}
