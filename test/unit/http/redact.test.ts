import assert from 'node:assert/strict';
import { REDACTED, redact, redactHeaders, redactUrl, scrub } from '../../../src/openstack/redact.js';

describe('http: redact', () => {
  it('deep-redacts secret-looking keys without touching the input', () => {
    const input = {
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'pw' } } } },
      application_credential: { id: 'x', secret: 's' },
      list: [{ token: 't' }, { ok: 1 }],
      client_secret: 'c',
      Credentials: 'c2',
      name: 'visible',
    };
    const out = redact(input);
    assert.deepEqual(out, {
      auth: { identity: { methods: ['password'], password: REDACTED } },
      application_credential: REDACTED,
      list: [{ token: REDACTED }, { ok: 1 }],
      client_secret: REDACTED,
      Credentials: REDACTED,
      name: 'visible',
    });
    assert.equal(input.auth.identity.password.user.password, 'pw');
  });

  it('drops token headers, handles cycles and errors', () => {
    const o: Record<string, unknown> = { 'X-Auth-Token': 't', 'x-subject-token': 's', a: 1 };
    o.self = o;
    const out = redact(o) as Record<string, unknown>;
    assert.equal('X-Auth-Token' in out, false);
    assert.equal('x-subject-token' in out, false);
    assert.equal(out.self, out);
    assert.deepEqual(redact({ e: new Error('boom') }), { e: { name: 'Error', message: 'boom' } });
    assert.equal(redact(null), null);
    assert.equal(redact('x'), 'x');
  });

  it('redactHeaders', () => {
    assert.deepEqual(redactHeaders({ 'X-Auth-Token': 't', 'X-Subject-Token': 's', Authorization: 'Bearer b', Accept: 'application/json', 'X-Service-Token': 'v', Cookie: 'c' }), {
      Accept: 'application/json',
      Cookie: REDACTED,
    });
  });

  it('redactUrl strips user info and secret query parameters', () => {
    assert.equal(redactUrl('https://u:pw@host:5000/v3?token=abc&limit=5'), 'https://host:5000/v3?token=[REDACTED]&limit=5');
    assert.equal(redactUrl('http://h/x'), 'http://h/x');
    assert.equal(redactUrl('not a url //u:p@x'), 'not a url //x');
  });

  it('scrub replaces known secrets in text', () => {
    assert.equal(scrub('password is hunter22, again hunter22', ['hunter22', null, 'ab']), `password is ${REDACTED}, again ${REDACTED}`);
  });
});
