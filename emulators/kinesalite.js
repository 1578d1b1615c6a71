// Starts kinesalite on 127.0.0.1 only (its CLI binds every interface), in memory, with streams
// that become ACTIVE at once. Usage: node kinesalite.js PORT
const kinesalite = require('kinesalite');

// kinesalite rethrows a request stream's error (`req.on('error', err => { throw err })`), so a
// client that disconnects mid-request (a producer killed with SIGKILL during a PutRecords) would
// take the whole emulator down with ECONNRESET "aborted". Kinesis drops that one request: so does
// this. Any other uncaught error still stops the process, with its stack on standard error.
process.on('uncaughtException', (error) => {
  if (error && error.code === 'ECONNRESET') {
    console.error(`kinesalite: a client went away mid-request (${error.message}); request dropped`);
    return;
  }
  console.error(error);
  process.exit(1);
});

const port = parseInt(process.argv[2], 10);
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
server.listen(port, '127.0.0.1', (error) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(`kinesalite listening on 127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
