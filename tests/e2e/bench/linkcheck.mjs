// Checks what the weak-link profiles really give (scripts/bench-weaklink.sh --check): per
// profile, 100 UDP echoes from the citizen's namespace to the server side, 50 ms apart (round
// trip min / mean / max, loss), and one TCP download from the root namespace to the citizen
// (throughput through tbf, the relay and the loss).
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { Net } from '../lib/netns.mjs';
import { PROFILES } from './profiles.mjs';

function inNs(ns, code) {
  return new Promise((res) => {
    const c = spawn('ip', ['netns', 'exec', ns, '/usr/bin/python3', '-c', code]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => process.stderr.write(d));
    c.on('exit', () => res(out.trim()));
  });
}

for (const [, p] of Object.entries(PROFILES)) {
  const n = new Net(2);
  try {
    n.impair(p.link);
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise((r) => echo.bind(0, n.serverIp, r));
    const udp = `import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.setblocking(False)
sent={};rtt=[]
for i in range(100):
 sent[i]=time.time();s.sendto(str(i).encode(),('${n.serverIp}',${echo.address().port}))
 end=time.time()+0.05
 while time.time()<end:
  try:
   d=s.recv(100);rtt.append((time.time()-sent[int(d)])*1000)
  except BlockingIOError: time.sleep(0.001)
end=time.time()+2
while time.time()<end:
 try:
  d=s.recv(100);rtt.append((time.time()-sent[int(d)])*1000)
 except BlockingIOError: time.sleep(0.001)
print('%.0f / %.0f / %.0f | %d %%'%(min(rtt),sum(rtt)/len(rtt),max(rtt),100-len(rtt)))`;
    const r = await inNs(n.c, udp);
    echo.close();
    const bytes = Math.round((p.link.rateKbit * 1000) / 8) * 4; // ~4 s at the nominal rate
    const srv = net.createServer((s) => {
      s.on('error', (e) => process.stderr.write(`download: ${e.message}\n`));
      s.end(Buffer.alloc(bytes));
    });
    await new Promise((res) => srv.listen(0, n.serverIp, res));
    const dl = await inNs(n.c, `import socket,time
s=socket.create_connection(('${n.serverIp}',${srv.address().port}))
b=0
while True:
 d=s.recv(65536)
 if not d: break
 if b==0: t=time.time()
 b+=len(d)
print(round(b*8/(time.time()-t)/1000))`);
    srv.close();
    console.log(`| ${p.label} | ${r} | ${dl} |`);
  } finally {
    await n.cleanup();
  }
}
