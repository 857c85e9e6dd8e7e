// The runtime's floor for bench:agent's gRPC one-shot row: only what that row's work needs, through Bun's own API, built
// as the agent is (scripts/build-binary.mjs --main). Usage: grpc PORT. Connects to 127.0.0.1:PORT, writes one fixed
// grpc.health.v1.Health/Check call in a single write, reads frames until the response's trailers end stream 1, and
// exits 0 if its message said SERVING ("status: SERVING" on stderr, as the agent and grpc-health-probe say), else 1.
// Nothing is parsed, encoded or decoded at run time: no HPACK, no flow control, no SETTINGS acknowledged (the server
// answers without them). Whatever the agent costs above this program is its own code's.

/** The client's whole side of the call, computed beforehand. */
const REQUEST = new Uint8Array([
  // the connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
  80, 82, 73, 32, 42, 32, 72, 84, 84, 80, 47, 50, 46, 48, 13, 10, 13, 10, 83, 77, 13, 10, 13, 10,
  // SETTINGS, empty: the defaults
  0, 0, 0, 4, 0, 0, 0, 0, 0,
  // HEADERS, END_HEADERS, stream 1: 75 bytes of HPACK, no Huffman, nothing indexed
  0, 0, 75, 1, 4, 0, 0, 0, 1,
  // :method POST, :scheme http (static table entries 3 and 6)
  131, 134,
  // :path /grpc.health.v1.Health/Check
  4, 28, 47, 103, 114, 112, 99, 46, 104, 101, 97, 108, 116, 104, 46, 118, 49, 46, 72, 101, 97, 108, 116, 104, 47, 67, 104, 101, 99, 107,
  // :authority localhost
  1, 9, 108, 111, 99, 97, 108, 104, 111, 115, 116,
  // content-type application/grpc
  15, 16, 16, 97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 103, 114, 112, 99,
  // te trailers
  0, 2, 116, 101, 8, 116, 114, 97, 105, 108, 101, 114, 115,
  // DATA, END_STREAM, stream 1: an uncompressed gRPC message of 0 bytes (HealthCheckRequest, service "")
  0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0,
]);
const TYPE_DATA = 0;
const TYPE_HEADERS = 1;
const END_STREAM = 1;

let unread = new Uint8Array(0);
let serving = false;

function verdict(ok) {
  console.error(ok ? 'status: SERVING' : 'service unhealthy');
  process.exit(ok ? 0 : 1);
}

Bun.connect({
  hostname: '127.0.0.1',
  port: Number(process.argv[2]),
  socket: {
    binaryType: 'uint8array',
    open(socket) {
      socket.write(REQUEST);
    },
    data(_socket, bytes) {
      const joined = new Uint8Array(unread.length + bytes.length);
      joined.set(unread);
      joined.set(bytes, unread.length);
      unread = joined;
      while (unread.length >= 9) {
        const length = (unread[0] << 16) | (unread[1] << 8) | unread[2];
        if (unread.length < 9 + length) return;
        const type = unread[3];
        const flags = unread[4];
        const stream1 = unread[5] === 0 && unread[6] === 0 && unread[7] === 0 && unread[8] === 1;
        // HealthCheckResponse{status: SERVING} behind the message's 5-byte prefix: field 1, varint 1.
        if (stream1 && type === TYPE_DATA && length === 7 && unread[14] === 8 && unread[15] === 1) serving = true;
        if (stream1 && type === TYPE_HEADERS && (flags & END_STREAM) !== 0) verdict(serving);
        unread = unread.subarray(9 + length);
      }
    },
    end() {
      verdict(false);
    },
    close() {
      verdict(false);
    },
    connectError() {
      verdict(false);
    },
  },
});
