// Starts kinesalite on 127.0.0.1 only (its CLI binds every interface), in memory, with streams
// that become ACTIVE at once. Usage: node kinesalite.js PORT
const kinesalite = require('kinesalite');

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
