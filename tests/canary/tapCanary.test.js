'use strict';
// Run: node --test tests/canary/
//
// The handler is exercised in a child process whose NODE_PATH is
// tests/canary/fixtures/synthetics-runtime (fake `Synthetics` and
// `SyntheticsLogger`), the same way the real runtime exposes its layer, so
// tapCanary.js runs unmodified and without any test hook.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');

const RUNTIME_DIR = path.join(__dirname, '..', '..', 'canary', 'nodejs', 'node_modules');
const CANARY = path.join(RUNTIME_DIR, 'tapCanary.js');
const FAKE_RUNTIME = path.join(__dirname, 'fixtures', 'synthetics-runtime');

describe('tapCanary.js in plain Node', () => {
  test('can be required without the Synthetics modules and exports handler', () => {
    assert.throws(() => require.resolve('Synthetics'), { code: 'MODULE_NOT_FOUND' });
    const canary = require(CANARY);
    assert.equal(typeof canary.handler, 'function');
  });

  test('handler without the Synthetics runtime rejects (modules are required lazily)', async () => {
    const { handler } = require(CANARY);
    await assert.rejects(handler(), { code: 'MODULE_NOT_FOUND', message: /Cannot find module 'Synthetics'/ });
  });

  describe('configFromEnv', () => {
    const { configFromEnv } = require(CANARY);
    test('defaults', () => {
      assert.deepEqual(configFromEnv({ TARGET_URL: 'https://x.example/prod/health' }),
        { url: 'https://x.example/prod/health', expectedRegion: undefined, timeoutMs: 5000 });
    });
    test('all set', () => {
      assert.deepEqual(
        configFromEnv({ TARGET_URL: ' https://x.example/prod/health ', EXPECTED_REGION: 'eu-west-1', TIMEOUT_MS: '3000' }),
        { url: 'https://x.example/prod/health', expectedRegion: 'eu-west-1', timeoutMs: 3000 });
    });
    test('empty EXPECTED_REGION and TIMEOUT_MS mean unset', () => {
      assert.deepEqual(configFromEnv({ TARGET_URL: 'http://h/health', EXPECTED_REGION: '', TIMEOUT_MS: '' }),
        { url: 'http://h/health', expectedRegion: undefined, timeoutMs: 5000 });
    });
    test('missing TARGET_URL', () => {
      assert.throws(() => configFromEnv({}), { message: 'TARGET_URL is not set' });
      assert.throws(() => configFromEnv({ TARGET_URL: '  ' }), { message: 'TARGET_URL is not set' });
    });
    for (const bad of ['0', '-5', '1.5', 'abc', '5s', '05']) {
      test(`bad TIMEOUT_MS ${JSON.stringify(bad)}`, () => {
        assert.throws(() => configFromEnv({ TARGET_URL: 'http://h/health', TIMEOUT_MS: bad }),
          { message: `TIMEOUT_MS must be a positive integer, got ${JSON.stringify(bad)}` });
      });
    }
  });
});

describe('canary zip contents', () => {
  test('nodejs/node_modules holds only the two runtime files and the health contract', () => {
    assert.deepEqual(fs.readdirSync(RUNTIME_DIR).sort(), ['tapCanary.js', 'tapHealth.js', 'tapHealthContract.json']);
  });

  test('runtime files require only Node built-ins, each other and the Synthetics runtime modules', () => {
    const allowed = new Set(['./tapHealth', './tapHealthContract.json', 'Synthetics', 'SyntheticsLogger']);
    for (const file of ['tapCanary.js', 'tapHealth.js']) {
      const source = fs.readFileSync(path.join(RUNTIME_DIR, file), 'utf8');
      const required = [...source.matchAll(/require\(\s*(['"`])([^'"`]+)\1\s*\)/g)].map((m) => m[2]);
      assert.ok(required.length > 0, `${file}: no require() found`);
      for (const name of required) {
        assert.ok(name.startsWith('node:') || allowed.has(name), `${file} requires ${name}`);
      }
    }
  });
});

describe('handler with a fake Synthetics runtime (child process, NODE_PATH)', () => {
  let server;
  let base;
  let healthBody = null; // set per test
  const userAgents = [];

  before(async () => {
    server = http.createServer((req, res) => {
      userAgents.push(req.headers['user-agent']);
      if (req.url === '/prod/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(healthBody));
      } else if (req.url === '/prod/down') {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"message":"Service Unavailable"}');
      } else if (req.url === '/prod/hang') {
        // never answer
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // Runs `handler()` in a child process and reports its outcome, the recorded
  // Synthetics steps and the log lines. Must be async: the server lives in this process.
  const CHILD = `
    const out = {};
    require(process.argv[1]).handler().then(
      (value) => { out.outcome = 'passed'; out.value = value; },
      (err) => { out.outcome = 'failed'; out.error = err && err.message; },
    ).finally(() => {
      out.steps = require('Synthetics').__steps;
      out.logs = require('SyntheticsLogger').__lines;
      process.stdout.write(JSON.stringify(out));
    });`;

  function runHandler(env) {
    const childEnv = { ...process.env, NODE_PATH: FAKE_RUNTIME };
    for (const key of ['TARGET_URL', 'EXPECTED_REGION', 'TIMEOUT_MS']) delete childEnv[key];
    Object.assign(childEnv, env);
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', CHILD, CANARY], { env: childEnv, timeout: 4000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      });
    });
  }

  const NO_SCREENSHOTS = { screenshotOnStepStart: false, screenshotOnStepSuccess: false, screenshotOnStepFailure: false };

  test('healthy -> handler resolves, one passed "health" step, latency logged', async () => {
    healthBody = { status: 'ok', region: 'us-east-1', checks: { dynamodb: 'ok' } };
    const out = await runHandler({ TARGET_URL: `${base}/prod/health`, EXPECTED_REGION: 'us-east-1' });
    assert.equal(out.outcome, 'passed', out.error);
    assert.match(out.value, /^health ok in \d+ ms$/);
    assert.deepEqual(out.steps, [{ stepName: 'health', stepConfig: NO_SCREENSHOTS, status: 'passed' }]);
    assert.equal(out.logs.length, 1);
    assert.equal(out.logs[0].level, 'INFO');
    assert.match(out.logs[0].message, new RegExp(`^health ok url=${base}/prod/health status=200 latencyMs=\\d+$`));
    assert.equal(userAgents.at(-1), 'CloudWatchSynthetics/fake-canary-arn');
  });

  test('wrong region -> handler rejects with the reason, step failed', async () => {
    healthBody = { status: 'ok', region: 'us-west-2', checks: {} };
    const out = await runHandler({ TARGET_URL: `${base}/prod/health`, EXPECTED_REGION: 'us-east-1' });
    assert.equal(out.outcome, 'failed');
    assert.equal(out.error, 'health check failed: region us-west-2 != expected us-east-1');
    assert.deepEqual(out.steps, [{
      stepName: 'health', stepConfig: NO_SCREENSHOTS, status: 'failed',
      error: 'health check failed: region us-west-2 != expected us-east-1',
    }]);
    assert.equal(out.logs[0].level, 'ERROR');
    assert.match(out.logs[0].message, /^health failed url=\S+ status=200 latencyMs=\d+ reason="region us-west-2 != expected us-east-1" body=/);
  });

  test('503 -> handler rejects', async () => {
    const out = await runHandler({ TARGET_URL: `${base}/prod/down`, EXPECTED_REGION: 'us-east-1' });
    assert.equal(out.outcome, 'failed');
    assert.equal(out.error, 'health check failed: status 503');
  });

  test('no answer within TIMEOUT_MS -> handler rejects with the timeout', async () => {
    const out = await runHandler({ TARGET_URL: `${base}/prod/hang`, TIMEOUT_MS: '200' });
    assert.equal(out.outcome, 'failed');
    assert.equal(out.error, 'health check failed: timeout after 200 ms');
  });

  test('missing TARGET_URL -> handler rejects before any step', async () => {
    const out = await runHandler({});
    assert.equal(out.outcome, 'failed');
    assert.equal(out.error, 'TARGET_URL is not set');
    assert.deepEqual(out.steps, []);
  });
});
