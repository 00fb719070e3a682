// HTTPS in front of two server processes, for real: a test CA and a certificate for localhost
// made with openssl, the CA trusted by the test's Chromium through its own NSS database
// (certutil, HOME pointing at a fresh directory), and Debian's nginx running the shipped
// deploy/nginx/remote-hearing.conf with only its addresses, ports and certificate paths swapped.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { repoRoot, freePort } from './server.mjs';

export const NGINX = process.env.NGINX || '/usr/sbin/nginx';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

/** A CA, a localhost certificate it signed, and an NSS database (under `home`) trusting the CA. */
function makeCertificates(dir) {
  const p = (f) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=remote-hearing test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run('openssl', ['req', ...ec, '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  run('openssl', ['x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', p('leaf.ext'), '-out', p('leaf.pem')]);
  const home = p('home');
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  run('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  run('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'remote-hearing test CA', '-i', p('ca.pem')]);
  return { ca: p('ca.pem'), cert: p('leaf.pem'), key: p('leaf.key'), home };
}

/**
 * The shipped site file with the test's addresses: the upstreams and per-node routes point at
 * the two processes, 443 becomes `port` on loopback, the plain-HTTP redirect server is dropped.
 */
export function siteConfig({ port, a, b, cert, key }) {
  let site = readFileSync(join(repoRoot, 'deploy', 'nginx', 'remote-hearing.conf'), 'utf8');
  const swaps = [
    ['10.0.0.11:8080', a],
    ['10.0.0.12:8080', b],
    ['listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`],
    ['/etc/letsencrypt/live/hearing.example.gov.cn/fullchain.pem', cert],
    ['/etc/letsencrypt/live/hearing.example.gov.cn/privkey.pem', key],
    ['hearing.example.gov.cn', 'localhost'],
  ];
  for (const [from, to] of swaps) {
    if (!site.includes(from)) throw new Error(`deploy/nginx/remote-hearing.conf no longer has "${from}"`);
    site = site.replaceAll(from, to);
  }
  // The port-80 server (the redirect and the ACME challenge) is not part of this test.
  const plain = /server \{\n {4}listen 80;[\s\S]*?\n\}\n/;
  if (!plain.test(site)) throw new Error('deploy/nginx/remote-hearing.conf: no port-80 server block');
  site = site.replace(plain, '');
  // nginx reaches the processes from 127.0.0.2 while the browser reaches nginx from 127.0.0.1:
  // the processes trust only 127.0.0.2 (env below), so the test can tell the hop nginx added
  // from one the browser wrote.
  return site.replace('    client_max_body_size', '    proxy_bind 127.0.0.2;\n    client_max_body_size');
}

/**
 * Certificates and a port; `env(nodeId)` is what each server process needs to sit behind the
 * front; `start(a, b)` runs nginx towards the two processes (`http://127.0.0.1:N` each).
 */
export async function tlsFront() {
  for (const tool of [NGINX, 'openssl', 'certutil']) {
    const found = tool.startsWith('/') ? existsSync(tool) : spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
    if (!found) throw new Error(`${tool} is missing (scripts/deps.sh chromium installs nginx and libnss3-tools)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'rh-tls-'));
  const certs = makeCertificates(dir);
  const port = await freePort();
  const url = `https://localhost:${port}`;
  let child = null;
  let log = '';
  const front = {
    url,
    port,
    home: certs.home,
    ca: certs.ca,
    accessLog: join(dir, 'access.log'),
    env: (nodeId) => ({
      RH_SERVER__PUBLIC_URL: url,
      RH_SERVER__NODE_ID: nodeId,
      RH_SERVER__NODE_URL: `${url}/node/${nodeId}`,
      RH_SERVER__TRUST_FORWARDED_FOR: 'true',
      RH_SERVER__TRUSTED_PROXIES: '["127.0.0.2"]',
    }),
    async start(aUrl, bUrl) {
      const hostOf = (u) => new URL(u).host;
      const site = siteConfig({ port, a: hostOf(aUrl), b: hostOf(bUrl), cert: certs.cert, key: certs.key });
      writeFileSync(join(dir, 'site.conf'), site);
      for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', t), { recursive: true });
      const root = process.getuid?.() === 0;
      writeFileSync(join(dir, 'nginx.conf'), [
        root ? 'user root root;' : '',
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events { worker_connections 256; }',
        'http {',
        // Which process answered each request: the test checks that both did.
        `  log_format rh '$request_method $uri $status $upstream_addr';`,
        `  access_log ${front.accessLog} rh;`,
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t === 'body' ? 'client_body' : t}_temp_path ${join(dir, 'tmp', t)};`),
        `  include ${join(dir, 'site.conf')};`,
        '}',
        '',
      ].join('\n'));
      run(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')]);
      child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr.on('data', (d) => (log += d));
      for (let i = 0; i < 100; i++) {
        const up = await new Promise((res) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => {
            s.destroy();
            res(true);
          });
          s.on('error', () => res(false));
        });
        if (up) return;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`nginx did not start: ${log}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
    },
    /** The access log as `{ method, path, status, upstream }` lines. */
    requests() {
      if (!existsSync(front.accessLog)) return [];
      return readFileSync(front.accessLog, 'utf8').split('\n').filter(Boolean).map((l) => {
        const [method, path, status, upstream] = l.split(' ');
        return { method, path, status: Number(status), upstream };
      });
    },
    async stop() {
      if (child && child.exitCode === null) {
        await new Promise((r) => {
          child.on('exit', r);
          child.kill('SIGQUIT');
          setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 5000);
        });
      }
      if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
  return front;
}
