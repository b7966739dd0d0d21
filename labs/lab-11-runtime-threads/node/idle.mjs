// The first line of an ES module: count the threads before doing anything at all.
import { readdirSync } from 'node:fs';
console.log(`threads at the first line of an ES module: ${readdirSync('/proc/self/task').length}`);
