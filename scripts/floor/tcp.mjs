// The runtime's floor for bench:agent's TCP one-shot row: only what that row's work needs, through Bun's own API, built
// as the agent is (scripts/build-binary.mjs --main). Usage: tcp PORT. Connects to 127.0.0.1:PORT and exits 0 once
// the connection is open; on an error, one line on stdout (where the agent tells a failed check) and exit 4.
// Whatever the agent costs above this program is its own code's (parsing, the probe loop, the check, its report).
Bun.connect({
  hostname: '127.0.0.1',
  port: Number(process.argv[2]),
  socket: {
    binaryType: 'uint8array',
    open(socket) {
      socket.terminate();
      process.exit(0);
    },
    connectError(_socket, err) {
      console.log(`connect: ${err.code}`);
      process.exit(4);
    },
    data() {},
  },
});
