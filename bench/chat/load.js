// The one load generator of bench/chat.sh: the same workload against Blueprint's chat (its WebSocket JSON protocol, with
// `ws`) and against Socket.IO 4 (socket.io-client, WebSocket transport only). Prints one JSON line with the result.
//
//   node load.js --side blueprint|socketio --servers HOST:PORT[,HOST:PORT…] --mode setup|conns|fanout [options]
//
// setup (blueprint only)  creates --users users (POST /api/chat/users, concurrently), a room, and joins every user to
//                         it; writes {room, keys} to --out. Socket.IO has no user store: its users are names.
// conns                   opens --connections idle connections, each authenticated and subscribed to the room, spread
//                         round-robin over the servers and the users; reads the servers' RSS (--pids, /proc) before
//                         and after, and reports the growth per connection. A warm-up of --warm connections (opened,
//                         subscribed, closed) comes first, so the first connections do not pay for the JIT and the
//                         thread pool's growth; one message sent at the end checks how many connections receive it.
// fanout                  --subscribers connections subscribed to the room and --senders connections that only send
//                         (both spread over the servers), for --warmup then --seconds: flat out (--rate 0: each sender
//                         keeps --window sends unacknowledged) or paced at --rate messages/s in all. Each message's text
//                         carries its send time; every receiver records the latency (one process, one monotonic
//                         clock). Reports deliveries/s (arrivals in the measured window, all receivers), p50/p99/max
//                         latency of the messages sent in the window (after a drain), how many of them arrived, and
//                         the CPU of the servers (--pids) and of this process over the measured window.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');
const { io } = require('socket.io-client');

function args() {
  const out = {};
  for (let i = 2; i < process.argv.length; i += 2) {
    const key = process.argv[i].replace(/^--/, '');
    out[key] = process.argv[i + 1];
  }
  return out;
}
const opt = args();
const side = opt.side;
const servers = (opt.servers || '').split(',').filter(Boolean);
const mode = opt.mode;
const num = (name, fallback) => (opt[name] === undefined ? fallback : Number(opt[name]));
if (!['blueprint', 'socketio'].includes(side) || servers.length === 0 || !['setup', 'conns', 'fanout'].includes(mode)) {
  console.error('usage: node load.js --side blueprint|socketio --servers HOST:PORT[,…] --mode setup|conns|fanout [options]');
  process.exit(2);
}
const pids = (opt.pids || '').split(',').filter(Boolean).map(Number);
const clkTck = 100; // USER_HZ on Linux
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs, monotonic
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
function cpuS(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck;
  } catch {
    return 0;
  }
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const serversRss = () => sum(pids.map(rssKb));
const serversCpu = () => sum(pids.map(cpuS));
const myCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// Runs fn(i) for i in [0, n) with at most `limit` at once.
async function pool(n, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(workers);
}

// ---- Blueprint: HTTP setup and the WebSocket protocol ----

async function http(server, method, path, body, key) {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`http://${server}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    } catch (e) {
      if (attempt >= 3 || /: 4\d\d /.test(e.message)) throw e;
      await sleep(200 * (attempt + 1));
    }
  }
}

async function setup() {
  const users = num('users', 100);
  const server = servers[0];
  const tag = opt.tag || `${Date.now().toString(36)}`;
  const keys = new Array(users);
  await pool(users, 32, async (i) => {
    keys[i] = (await http(server, 'POST', '/api/chat/users', { name: `bench-${tag}-${i}` })).key;
  });
  const room = await http(server, 'POST', '/api/chat/rooms', { name: `bench-${tag}` }, keys[0]);
  await pool(users - 1, 32, async (i) => {
    await http(server, 'POST', `/api/chat/rooms/${room.id}/join`, undefined, keys[i + 1]);
  });
  fs.writeFileSync(opt.out, JSON.stringify({ room: room.id, keys }));
  return { users, room: room.id };
}

// A client of either side with one interface: connect() (authenticated), subscribe(), send(text) → Promise (the ack),
// onMessage(text) callback, close().
class BlueprintClient {
  constructor(server, key, room) {
    this.server = server;
    this.key = key;
    this.room = room;
    this.refs = new Map();
    this.nextRef = 0;
    this.onMessage = null;
    this.closedWith = null;
  }
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${this.server}/api/chat/ws`, { headers: { authorization: `Bearer ${this.key}` }, perMessageDeflate: false });
      this.ws = ws;
      let ready = false;
      const timer = setTimeout(() => reject(new Error('no ready within 30 s')), 30000);
      ws.on('message', (data) => {
        const f = JSON.parse(data);
        switch (f.type) {
          case 'message':
            if (this.onMessage) this.onMessage(f.text);
            break;
          case 'ping':
            ws.send('{"type":"pong"}');
            break;
          case 'ready':
            ready = true;
            clearTimeout(timer);
            resolve();
            break;
          case 'ack':
          case 'subscribed':
          case 'error': {
            const p = this.refs.get(f.ref);
            if (p) {
              this.refs.delete(f.ref);
              if (f.type === 'error') p.reject(new Error(`${f.code}: ${f.message}`));
              else p.resolve(f);
            }
            break;
          }
          default:
            break;
        }
      });
      ws.on('error', (e) => {
        if (!ready) {
          clearTimeout(timer);
          reject(e);
        }
      });
      ws.on('close', (code) => {
        this.closedWith = code;
        for (const p of this.refs.values()) p.reject(new Error(`closed ${code}`));
        this.refs.clear();
      });
    });
  }
  request(frame) {
    const ref = String(++this.nextRef);
    frame.ref = ref;
    return new Promise((resolve, reject) => {
      this.refs.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify(frame));
    });
  }
  subscribe() {
    return this.request({ type: 'subscribe', room: this.room });
  }
  send(text) {
    return this.request({ type: 'send', room: this.room, text });
  }
  close() {
    try {
      this.ws.close();
    } catch {
      /* gone */
    }
  }
}

class SocketIoClient {
  constructor(server, user, room) {
    this.server = server;
    this.user = user;
    this.room = room;
    this.onMessage = null;
    this.closedWith = null;
  }
  connect() {
    return new Promise((resolve, reject) => {
      const s = io(`http://${this.server}`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: this.user }, timeout: 30000 });
      this.s = s;
      s.on('connect', resolve);
      s.on('connect_error', reject);
      s.on('message', (m) => {
        if (this.onMessage) this.onMessage(m.text);
      });
      s.on('disconnect', (reason) => {
        this.closedWith = reason;
      });
    });
  }
  emit(event, frame) {
    return new Promise((resolve, reject) => {
      this.s.emit(event, frame, (r) => (r && r.error ? reject(new Error(r.error)) : resolve(r)));
    });
  }
  subscribe() {
    return this.emit('join', { room: this.room });
  }
  send(text) {
    return this.emit('send', { room: this.room, text });
  }
  close() {
    this.s.close();
  }
}

let fixture = null;
function client(i) {
  const server = servers[i % servers.length];
  if (side === 'blueprint') {
    fixture ??= JSON.parse(fs.readFileSync(opt.fixture, 'utf8'));
    return new BlueprintClient(server, fixture.keys[i % fixture.keys.length], fixture.room);
  }
  return new SocketIoClient(server, `user-${i % num('users', 100)}`, opt.room || 'bench');
}

async function open(n, offset, subscribe) {
  const clients = new Array(n);
  await pool(n, num('concurrency', 64), async (i) => {
    const c = client(offset + i);
    await c.connect();
    if (subscribe) await c.subscribe();
    clients[i] = c;
  });
  return clients;
}

async function closeAll(clients) {
  for (const c of clients) if (c) c.close();
  await sleep(500);
}

// ---- conns ----

async function conns() {
  const n = num('connections', 1000);
  const warm = num('warm', 200);
  const settle = num('settle', 3) * 1000;
  if (warm > 0) {
    const w = await open(warm, 0, true);
    await closeAll(w);
  }
  await sleep(settle);
  const before = serversRss();
  const t0 = now();
  const half = Math.floor(n / 2);
  const first = await open(half, 0, true);
  await sleep(settle);
  const middle = serversRss();
  const second = await open(n - half, half, true);
  const openS = (now() - t0) / 1e6;
  await sleep(settle);
  const after = serversRss();
  const clients = first.concat(second);
  // A check that they are live and subscribed: one message, counted at every connection.
  let received = 0;
  for (const c of clients) c.onMessage = () => received++;
  const sender = (await open(1, n, false))[0];
  await sender.send('check');
  const deadline = Date.now() + 5000;
  while (received < n && Date.now() < deadline) await sleep(50);
  await closeAll(clients.concat([sender]));
  return {
    connections: n,
    rss_before_kb: before,
    rss_middle_kb: middle,
    rss_after_kb: after,
    kb_per_conn: (after - before) / n,
    kb_per_conn_second_half: (after - middle) / (n - half),
    open_s: openS,
    conns_per_s: n / openS,
    received_check: received,
  };
}

// ---- fanout ----

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function fanout() {
  const subscribers = num('subscribers', 100);
  const senders = num('senders', 4);
  const rate = num('rate', 0);
  const window = num('window', 16);
  const warmupUs = num('warmup', 2) * 1e6;
  const measuredUs = num('seconds', 8) * 1e6;
  const drainMs = num('drain', 3) * 1000;
  const subs = await open(subscribers, 0, true);
  const sends = await open(senders, subscribers, false);

  const cap = num('samples', 4000000);
  const lat = new Float64Array(cap);
  let nLat = 0;
  let arrivedInWindow = 0;
  let startUs = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let sentInWindow = 0;
  let sentTotal = 0;
  let ackErrors = 0;
  let firstError = null;
  let running = true;

  const onMessage = (text) => {
    const t = now();
    const space = text.indexOf(' ');
    const sentAt = Number(text.slice(0, space));
    if (t >= windowStart && t < windowEnd) arrivedInWindow++;
    if (sentAt >= windowStart && sentAt < windowEnd && nLat < cap) lat[nLat++] = t - sentAt;
  };
  for (const c of subs) c.onMessage = onMessage;
  const body = 'x'.repeat(Math.max(0, num('bytes', 64) - 20));

  const sendOne = (c) => {
    const t = now();
    if (t >= windowStart && t < windowEnd) sentInWindow++;
    sentTotal++;
    return c.send(`${t.toFixed(1)} ${body}`).catch((e) => {
      ackErrors++;
      firstError ??= e.message;
    });
  };

  startUs = now();
  windowStart = startUs + warmupUs;
  windowEnd = windowStart + measuredUs;
  const cpu0 = { at: 0, server: 0, me: 0 };
  const cpuTimer = setTimeout(() => {
    cpu0.server = serversCpu();
    cpu0.me = myCpu();
  }, warmupUs / 1000);
  let cpu1 = null;
  const cpuEnd = setTimeout(() => {
    cpu1 = { server: serversCpu(), me: myCpu() };
  }, (warmupUs + measuredUs) / 1000);

  const loops = [];
  if (rate === 0) {
    for (const c of sends) {
      for (let k = 0; k < window; k++) {
        loops.push(
          (async () => {
            while (running && now() < windowEnd) {
              if (c.closedWith !== null) return;
              await sendOne(c);
            }
          })(),
        );
      }
    }
  } else {
    loops.push(
      (async () => {
        let sent = 0;
        let turn = 0;
        while (now() < windowEnd) {
          const due = Math.floor(((now() - startUs) / 1e6) * rate);
          while (sent < due) {
            sendOne(sends[turn++ % sends.length]);
            sent++;
          }
          await sleep(2);
        }
      })(),
    );
  }
  await Promise.all(loops);
  running = false;
  await sleep(drainMs);
  clearTimeout(cpuTimer);
  clearTimeout(cpuEnd);
  cpu1 ??= { server: serversCpu(), me: myCpu() };
  const cut = subs.filter((c) => c.closedWith !== null).length;
  await closeAll(subs.concat(sends));

  const sorted = lat.subarray(0, nLat).sort();
  const seconds = measuredUs / 1e6;
  const expected = sentInWindow * subscribers;
  return {
    subscribers,
    senders,
    rate,
    window: rate === 0 ? window : null,
    sent_per_s: sentInWindow / seconds,
    deliveries_per_s: arrivedInWindow / seconds,
    expected,
    delivered: nLat,
    delivered_pct: expected ? (100 * nLat) / expected : null,
    p50_us: percentile(sorted, 50),
    p99_us: percentile(sorted, 99),
    max_us: sorted.length ? sorted[sorted.length - 1] : null,
    server_cpu_s: cpu1.server - cpu0.server,
    client_cpu_s: cpu1.me - cpu0.me,
    subscribers_closed: cut,
    send_errors: ackErrors,
    first_error: firstError,
    total_sent: sentTotal,
  };
}

(async () => {
  const result = mode === 'setup' ? await setup() : mode === 'conns' ? await conns() : await fanout();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
})().catch((e) => {
  console.error(`load.js: ${e.stack || e}`);
  process.exit(1);
});
