'use strict';
// Run: node --test tests/canary/
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');

const { checkHealth, judge, CONTRACT, MAX_BODY_BYTES } = require(
  path.join(__dirname, '..', '..', 'canary', 'nodejs', 'node_modules', 'tapHealth.js'),
);

// The body the function answers when healthy, built from the contract (tapinfra/runtime/health.py).
const HEALTHY = {
  [CONTRACT.fields.status]: CONTRACT.statuses.healthy,
  [CONTRACT.fields.region]: 'us-east-1',
  [CONTRACT.fields.checks]: { [CONTRACT.checks.table]: 'ok', [CONTRACT.checks.drain]: 'off' },
};
const json = (value) => JSON.stringify(value);

describe('judge (pure)', () => {
  const cases = [
    // [statusCode, body, expectedRegion, expected reason or null for ok]
    [200, json(HEALTHY), 'us-east-1', null],
    [200, json(HEALTHY), undefined, null],
    [200, json(HEALTHY), '', null],
    [200, json({ ...HEALTHY, checks: {} }), 'us-east-1', null],
    [503, json(HEALTHY), 'us-east-1', 'status 503'],
    [201, json(HEALTHY), 'us-east-1', 'status 201'],
    [200, '<html>ok</html>', 'us-east-1', 'body is not JSON'],
    [200, '', 'us-east-1', 'body is not JSON'],
    [200, 'null', 'us-east-1', 'body is not a JSON object'],
    [200, '[]', 'us-east-1', 'body is not a JSON object'],
    [200, '"ok"', 'us-east-1', 'body is not a JSON object'],
    [200, json({ region: 'us-east-1', checks: {} }), 'us-east-1', 'missing field status'],
    [200, json({ ...HEALTHY, status: 'degraded' }), 'us-east-1', 'status field is "degraded", expected "ok"'],
    [200, json({ ...HEALTHY, status: true }), 'us-east-1', 'status field is true, expected "ok"'],
    [200, json({ status: 'ok', checks: {} }), 'us-east-1', 'missing field region'],
    [200, json({ ...HEALTHY, region: '' }), undefined, 'field region is not a non-empty string'],
    [200, json({ ...HEALTHY, region: 42 }), undefined, 'field region is not a non-empty string'],
    [200, json({ ...HEALTHY, region: 'us-west-2' }), 'us-east-1', 'region us-west-2 != expected us-east-1'],
    [200, json({ status: 'ok', region: 'us-east-1' }), 'us-east-1', 'missing field checks'],
    [200, json({ ...HEALTHY, checks: null }), 'us-east-1', 'field checks is not an object'],
    [200, json({ ...HEALTHY, checks: ['dynamodb'] }), 'us-east-1', 'field checks is not an object'],
    [200, json({ ...HEALTHY, checks: 'ok' }), 'us-east-1', 'field checks is not an object'],
  ];
  for (const [statusCode, body, expectedRegion, reason] of cases) {
    test(`${statusCode} ${body.slice(0, 60)} (expected region ${expectedRegion}) -> ${reason || 'ok'}`, () => {
      assert.deepEqual(judge(statusCode, body, expectedRegion), { ok: reason === null, reason });
    });
  }
});

describe('checkHealth against a real local HTTP server', () => {
  let server;
  let base;
  const seen = []; // request headers per path

  // path -> handler(req, res); '/hang' never answers, '/stall' sends headers and part of the body only.
  const routes = {
    '/healthy': (req, res) => send(res, 200, json(HEALTHY)),
    '/unavailable': (req, res) => send(res, 503, json({ message: 'Service Unavailable' })),
    '/not-json': (req, res) => send(res, 200, '<html>ok</html>', 'text/html'),
    '/missing-status': (req, res) => send(res, 200, json({ region: 'us-east-1', checks: {} })),
    '/missing-region': (req, res) => send(res, 200, json({ status: 'ok', checks: {} })),
    '/missing-checks': (req, res) => send(res, 200, json({ status: 'ok', region: 'us-east-1' })),
    '/wrong-region': (req, res) => send(res, 200, json({ ...HEALTHY, region: 'us-west-2' })),
    '/huge': (req, res) => send(res, 200, 'x'.repeat(MAX_BODY_BYTES + 1)),
    '/hang': () => {},
    '/stall': (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    },
  };
  function send(res, statusCode, body, contentType = 'application/json') {
    res.writeHead(statusCode, { 'content-type': contentType });
    res.end(body);
  }

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url, headers: req.headers });
      (routes[req.url] || ((q, r) => send(r, 404, 'not found', 'text/plain')))(req, res);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (route, opts = {}) =>
    checkHealth({ url: base + route, timeoutMs: 2000, expectedRegion: 'us-east-1', ...opts });

  test('healthy -> ok, with status, body and latency', async () => {
    const r = await check('/healthy');
    assert.equal(r.ok, true);
    assert.equal(r.reason, null);
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, json(HEALTHY));
    assert.ok(Number.isInteger(r.latencyMs) && r.latencyMs >= 0 && r.latencyMs < 2000, `latencyMs ${r.latencyMs}`);
  });

  test('healthy without expectedRegion -> ok', async () => {
    const r = await check('/healthy', { expectedRegion: undefined });
    assert.equal(r.ok, true);
  });

  test('sends accept and caller headers, on a fresh connection', async () => {
    await check('/healthy', { headers: { 'user-agent': 'tap-test-agent' } });
    const last = seen.filter((s) => s.path === '/healthy').at(-1);
    assert.equal(last.headers['user-agent'], 'tap-test-agent');
    assert.equal(last.headers.accept, 'application/json');
    assert.equal(last.headers.connection, 'close');
  });

  const failures = [
    ['/unavailable', 503, 'status 503'],
    ['/not-json', 200, 'body is not JSON'],
    ['/missing-status', 200, 'missing field status'],
    ['/missing-region', 200, 'missing field region'],
    ['/missing-checks', 200, 'missing field checks'],
    ['/wrong-region', 200, 'region us-west-2 != expected us-east-1'],
    ['/nowhere', 404, 'status 404'],
  ];
  for (const [route, statusCode, reason] of failures) {
    test(`${route} -> not ok: ${reason}`, async () => {
      const r = await check(route);
      assert.equal(r.ok, false);
      assert.equal(r.statusCode, statusCode);
      assert.equal(r.reason, reason);
      assert.equal(typeof r.body, 'string');
    });
  }

  test('body over the size cap -> not ok', async () => {
    const r = await check('/huge');
    assert.equal(r.ok, false);
    assert.equal(r.reason, `body exceeds ${MAX_BODY_BYTES} bytes`);
    assert.equal(r.body, null);
  });

  test('server that never answers -> timeout reason within the timeout', { timeout: 2000 }, async () => {
    const r = await check('/hang', { timeoutMs: 200 });
    assert.deepEqual({ ok: r.ok, statusCode: r.statusCode, body: r.body, reason: r.reason },
      { ok: false, statusCode: null, body: null, reason: 'timeout after 200 ms' });
    assert.ok(r.latencyMs >= 190 && r.latencyMs < 1000, `latencyMs ${r.latencyMs}`);
  });

  test('body that never finishes -> timeout (the timeout covers the whole exchange)', { timeout: 2000 }, async () => {
    const r = await check('/stall', { timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'timeout after 200 ms');
    assert.ok(r.latencyMs >= 190 && r.latencyMs < 1000, `latencyMs ${r.latencyMs}`);
  });

  test('connection refused -> not ok, never throws', async () => {
    const closed = http.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address();
    await new Promise((resolve) => closed.close(resolve));

    const r = await checkHealth({ url: `http://127.0.0.1:${port}/health`, timeoutMs: 2000 });
    assert.deepEqual({ ok: r.ok, statusCode: r.statusCode, body: r.body, reason: r.reason },
      { ok: false, statusCode: null, body: null, reason: 'network error ECONNREFUSED' });
  });

  test('https: URL uses TLS (plain HTTP server -> TLS error, not a judged response)', async () => {
    const r = await check('/healthy', { url: base.replace('http:', 'https:') + '/healthy' });
    assert.equal(r.ok, false);
    assert.equal(r.statusCode, null);
    assert.match(r.reason, /^network error (EPROTO|ERR_SSL_[A-Z_]+)$/);
  });
});

describe('checkHealth argument errors resolve as not ok', () => {
  const cases = [
    [{ url: 'ftp://127.0.0.1/health' }, 'unsupported protocol ftp:'],
    [{ url: 'not a url' }, 'invalid url "not a url"'],
    [{ url: undefined }, 'invalid url undefined'],
    [{ url: 'http://127.0.0.1/health', timeoutMs: 0 }, 'invalid timeoutMs 0'],
    [{ url: 'http://127.0.0.1/health', timeoutMs: NaN }, 'invalid timeoutMs NaN'],
  ];
  for (const [opts, reason] of cases) {
    test(reason, async () => {
      const r = await checkHealth(opts);
      assert.equal(r.ok, false);
      assert.equal(r.reason, reason);
      assert.equal(r.statusCode, null);
    });
  }
});
