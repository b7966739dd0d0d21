// Chapter 2: the race a Node.js developer really meets. No threads are involved: two
// requests run on one thread, but each reads the balance, awaits something, and writes
// back what it computed from the value it read before the await.
// Usage: node balance.mjs

// ANCHOR: balance
let balance = 100;

// Stands for any real await: a database call, an HTTP request, a file read.
const chargeCard = () => new Promise((resolve) => setImmediate(resolve));

async function withdraw(request, amount) {
  const seen = balance; // read
  console.log(`${request}: reads balance ${seen}`);
  await chargeCard(); // the other request runs here
  balance = seen - amount; // write back, computed from a stale read
  console.log(`${request}: writes balance ${balance}`);
}

async function withdrawSafely(request, amount) {
  await chargeCard();
  balance -= amount; // read and write with no await in between
  console.log(`${request}: writes balance ${balance}`);
}
// ANCHOR_END: balance

await Promise.all([withdraw('request A', 30), withdraw('request B', 50)]);
console.log(`read, await, write: final balance ${balance}, expected ${100 - 30 - 50}`);

balance = 100;
await Promise.all([withdrawSafely('request A', 30), withdrawSafely('request B', 50)]);
console.log(`await, then read and write: final balance ${balance}, expected ${100 - 30 - 50}`);
