import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { closeLogger, consoleShows, createLogger, runLogContext } from '../../../src/report/logging.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

const http = { method: 'GET', url: 'https://nova.example/v2.1/os-services', status: 200, requestId: 'req-abc', durationMs: 12, service: 'compute', attempt: 1 };

async function logSome(verbosity: number, quiet = false) {
  const out = capture();
  const logger = createLogger({ verbosity, stream: out.stream, quiet });
  logger.error('boom');
  logger.warn('careful');
  logger.info('run record saved');
  logger.debug('GET https://nova.example/v2.1/os-services -> 200', http);
  logger.debug('compute event migration-progress', { serverId: 's1' });
  await closeLogger(logger);
  return out.text();
}

describe('logging', () => {
  it('console: warnings by default; -v adds info and one line per HTTP request; -vv everything; --quiet errors only', async () => {
    const v0 = await logSome(0);
    assert.match(v0, /boom/);
    assert.match(v0, /careful/);
    assert.doesNotMatch(v0, /run record|GET/);
    const v1 = await logSome(1);
    assert.match(v1, /info +run record saved/);
    assert.match(v1, /debug GET https:\/\/nova\.example\/v2\.1\/os-services -> 200 {2}requestId=req-abc durationMs=12$/m);
    assert.doesNotMatch(v1, /migration-progress/);
    const v2 = await logSome(2);
    assert.match(v2, /migration-progress/);
    const q = await logSome(2, true);
    assert.match(q, /boom/);
    assert.doesNotMatch(q, /careful|GET/);
  });

  it('consoleShows is the one rule', () => {
    assert.equal(consoleShows('debug', http, 1), true);
    assert.equal(consoleShows('debug', { serverId: 'x' }, 1), false);
    assert.equal(consoleShows('info', {}, 0), false);
    assert.equal(consoleShows('warn', {}, 0), true);
  });

  it('--log-file: JSON lines with the run id and host (once the run started) on every line, secrets scrubbed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-log-'));
    try {
      const file = path.join(dir, 'run.log');
      const out = capture();
      const logger = createLogger({ verbosity: 0, stream: out.stream, logFile: file, secrets: ['s3cret-pass'] });
      logger.info('connecting');
      const ctx = runLogContext(out.stream);
      ctx.runId = '20240101T000000Z-abcd';
      ctx.host = 'compute-01';
      logger.debug('GET https://nova.example/x -> 200', { ...http, body: { password: 's3cret-pass' } });
      logger.info('migration requested', { serverId: 's1', requestId: 'req-1' });
      logger.warn('the password s3cret-pass was used');
      await closeLogger(logger);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 4);
      assert.equal(lines[0]?.runId, undefined, 'before the run started');
      for (const l of lines.slice(1)) {
        assert.equal(l.runId, '20240101T000000Z-abcd');
        assert.equal(l.host, 'compute-01');
        assert.ok(typeof l.timestamp === 'string');
      }
      assert.equal(lines[1]?.requestId, 'req-abc');
      assert.equal(lines[1]?.durationMs, 12);
      assert.equal(lines[2]?.serverId, 's1');
      const text = readFileSync(file, 'utf8');
      assert.ok(!text.includes('s3cret-pass'), text);
      assert.ok(!out.text().includes('s3cret-pass'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
