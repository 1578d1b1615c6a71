// Starts one of the Node emulators on 127.0.0.1 only (their CLIs bind every interface), in memory,
// with streams and tables that become ACTIVE at once. Usage: node launch.js kinesalite|dynalite PORT
const [name, portText] = process.argv.slice(2);
const options = {
  // Kinesis: streams are ACTIVE at once; the account's shard limit is far above any test's.
  kinesalite: { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 },
  // DynamoDB: tables are ACTIVE at once.
  dynalite: { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 },
}[name];
if (!options) {
  console.error(`usage: node launch.js kinesalite|dynalite PORT (not ${name})`);
  process.exit(2);
}

// Both rethrow a request stream's error (`req.on('error', err => { throw err })`), so a client that
// disconnects mid-request (a producer killed with SIGKILL during a PutRecords) would take the whole
// emulator down with ECONNRESET "aborted". AWS drops that one request: so does this. Any other
// uncaught error still stops the process, with its stack on standard error.
process.on('uncaughtException', (error) => {
  if (error && error.code === 'ECONNRESET') {
    console.error(`${name}: a client went away mid-request (${error.message}); request dropped`);
    return;
  }
  console.error(error);
  process.exit(1);
});

const port = parseInt(portText, 10);
const server = require(name)(options);
server.listen(port, '127.0.0.1', (error) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(`${name} listening on 127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
