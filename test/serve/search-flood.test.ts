import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

/**
 * Issue 26 §2: the home page's search must not starve the probes. 100,000 names; 128 clients send distinct
 * searches that match nothing for 3 seconds, while /livez is asked on a connection of its own. Bounded: 3 s of
 * flood, every request answered.
 */
const WORDS = ['py3', 'go', 'lib', 'rust', 'node', 'ruby', 'perl', 'php', 'java', 'kube', 'argo', 'cert'];
const NAMES = 100_000;
const name = (i: number) => `${WORDS[i % WORDS.length]}-${WORDS[Math.floor(i / WORDS.length) % WORDS.length]}-${i}`;
const PACKAGES: FixturePackage[] = Array.from({ length: NAMES }, (_, i) => ({ name: name(i), version: '1.0-r0' }));
const CLIENTS = 128;
const FLOOD_MS = 3_000;

let f: FixtureService;
beforeAll(async () => {
  f = await startFixtureService({ repositories: { os: { x86_64: PACKAGES } }, listen: true });
}, 60_000);
afterAll(async () => f?.close());

function get(agent: Agent, path: string): Promise<{ status: number; body: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${f.baseUrl}${path}`, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: performance.now() - start }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The flood, from a process of its own (clients in the service's own process would compete with it for the event
 * loop, and measure themselves): CLIENTS keep-alive connections sending distinct searches that match nothing
 * until FLOOD_MS is over; it prints how many it sent and the statuses it got.
 */
const FLOOD = `
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
const [base, clients, ms, names] = process.argv.slice(1);
const words = ${JSON.stringify(WORDS)};
const agent = new Agent({ keepAlive: true, maxSockets: Number(clients) });
const end = Date.now() + Number(ms);
let sent = 0;
const statuses = {};
const noMatch = (i) =>
  i % 2 === 0
    ? Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')
    : words[i % words.length] + '-' + words[(i >> 3) % words.length] + '-' + (Number(names) + i);
const get = (path) =>
  new Promise((resolve, reject) => {
    const req = request(base + path, { agent }, (res) => {
      if (Object.keys(statuses).length === 0) process.stdout.write('started\\n');
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
await Promise.all(
  Array.from({ length: Number(clients) }, async () => {
    while (Date.now() < end) await get('/?q=' + noMatch(sent++));
  }),
);
agent.destroy();
process.stdout.write(JSON.stringify({ sent, statuses }) + '\\n');
`;

/** The flood: `started` once its first answer arrived (it is under way), `result` once it is over. */
function flood(): { started: Promise<void>; result: Promise<{ sent: number; statuses: Record<string, number> }> } {
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const result = new Promise<{ sent: number; statuses: Record<string, number> }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', FLOOD, f.baseUrl, String(CLIENTS), String(FLOOD_MS), String(NAMES)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('started\n')) started();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.slice('started\n'.length))) : reject(new Error(`flood exited ${code}`)),
    );
  });
  void result.catch(() => started());
  return { started: startedP, result };
}

const listedNames = (body: string) =>
  [...body.matchAll(/<li><a href="\/\?q=([^"]+)">/g)].map((m) => decodeURIComponent(m[1]!));

describe('the home page search', () => {
  it('lists at most 50 names, those starting with the search first, and says when more match', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const page = await get(agent, '/?q=py3-go');
      expect(page.status).toBe(200);
      const listed = listedNames(page.body);
      expect(listed).toHaveLength(50);
      expect(listed.every((n) => n.startsWith('py3-go-'))).toBe(true);
      expect(page.body).toContain('more match; narrow the search');
      // Whatever the case: the names starting with it (in order), then those containing it (in order).
      const all = PACKAGES.map((p) => p.name).sort();
      const starting = all.filter((n) => n.startsWith('go-py3-10'));
      const containing = all.filter((n) => n.includes('go-py3-10') && !n.startsWith('go-py3-10'));
      expect([starting.length, containing.length].every((n) => n > 0)).toBe(true);
      expect(listedNames((await get(agent, '/?q=GO-Py3-10')).body)).toEqual([...starting, ...containing]);
      const none = await get(agent, '/?q=zzqxzzqx');
      expect(none.body).toContain('Nothing in the loaded indexes has that name or contains it.');
    } finally {
      agent.destroy();
    }
  });

  it(`a flood of distinct searches that match nothing (${CLIENTS} clients) leaves /livez answered while it lasts`, async () => {
    // The probe's connection is open before the flood: what is measured is the event loop, not the listener's
    // accept queue (a separate management listener is what keeps new probe connections out of that queue).
    // Before the search was built at refresh, one probe sent during such a flood was answered only after it ended.
    const probe = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(probe, '/livez')).status).toBe(200);
    const flooding = flood();
    let done = false;
    const over = () => (done = true);
    flooding.result.then(over, over);
    const during: number[] = [];
    try {
      // Probes back to back, one at a time, from the flood's first answer until it is over.
      await flooding.started;
      while (!done) {
        const res = await get(probe, '/livez');
        expect(res.status).toBe(200);
        if (!done) during.push(res.ms);
      }
    } finally {
      probe.destroy();
    }
    const { sent, statuses } = await flooding.result;
    expect(Object.keys(statuses)).toEqual(['200']);
    expect(sent).toBeGreaterThan(CLIENTS);
    expect(during.length, during.map((ms) => ms.toFixed(0)).join(' ')).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
