// The Socket.IO 4 peer of bench/chat.sh: rooms, a "send" event broadcast to the room with io.to(room).emit, and the
// Redis adapter (@socket.io/redis-adapter) against a redis-server, so several processes share rooms.
//   node sio-server.js --port PORT --redis-port PORT [--name NAME]
// A client connects with the WebSocket transport and auth {token: "<user name>"} (no user store: any non-empty token
// is accepted and names the user), then emits
//   "join"  {room}              ack {room}
//   "send"  {room, text}        ack {room, id}; the room's sockets (the sender too, when it joined) get "message"
//                               {room, id, user, text, sentAt}
// Prints "ready <port>" on stdout once it listens.
'use strict';
const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port'));
const redisPort = Number(arg('redis-port'));
const name = arg('name', `sio-${port}`);
if (!port || !redisPort) {
  console.error('usage: node sio-server.js --port PORT --redis-port PORT [--name NAME]');
  process.exit(2);
}

async function main() {
  const pub = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const sub = pub.duplicate();
  pub.on('error', (e) => console.error(`${name}: redis: ${e.message}`));
  sub.on('error', (e) => console.error(`${name}: redis: ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/readyz' ? 'ready' : 'not found');
  });
  const io = new Server(server, { transports: ['websocket'], serveClient: false });
  io.adapter(createAdapter(pub, sub));

  let sequence = 0;
  io.use((socket, next) => {
    const token = socket.handshake.auth && socket.handshake.auth.token;
    if (typeof token !== 'string' || token.length === 0) {
      return next(new Error('unauthorized'));
    }
    socket.data.user = token;
    next();
  });

  io.on('connection', (socket) => {
    socket.on('join', (frame, ack) => {
      if (!frame || typeof frame.room !== 'string') {
        return typeof ack === 'function' && ack({ error: 'bad_frame' });
      }
      socket.join(frame.room);
      if (typeof ack === 'function') ack({ room: frame.room });
    });
    socket.on('send', (frame, ack) => {
      if (!frame || typeof frame.room !== 'string' || typeof frame.text !== 'string' || frame.text.length === 0) {
        return typeof ack === 'function' && ack({ error: 'bad_frame' });
      }
      const id = `${port}-${++sequence}`;
      io.to(frame.room).emit('message', { room: frame.room, id, user: socket.data.user, text: frame.text, sentAt: Date.now() });
      if (typeof ack === 'function') ack({ room: frame.room, id });
    });
  });

  server.listen(port, '127.0.0.1', () => console.log(`ready ${port}`));
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`${name}: ${e.stack || e}`);
  process.exit(1);
});
