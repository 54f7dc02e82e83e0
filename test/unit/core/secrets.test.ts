import { strict as assert } from 'node:assert';
import { REDACTED, redactDeep, redactText } from '../../../src/core/secrets.js';
import { escapeControls } from '../../../src/core/text.js';

describe('core/secrets: redaction by field and by value (issue 15)', () => {
  const rows: Array<{ name: string; text: string; secrets: string[]; want: string }> = [
    { name: 'a value that is the secret, however short', text: 'true', secrets: ['true'], want: REDACTED },
    { name: 'a short secret inside a host name stays (it cannot be told from it)', text: 'compute-02', secrets: ['compute'], want: 'compute-02' },
    { name: 'an ordinary word stays', text: 'Keystone does not say which one is wrong', secrets: ['wrong'], want: 'Keystone does not say which one is wrong' },
    { name: 'a long secret inside text goes', text: 'failed with S3cret-Passw0rd here', secrets: ['S3cret-Passw0rd'], want: `failed with ${REDACTED} here` },
    { name: 'URL user-info goes, wherever the URL is', text: 'see http://admin:PW@keystone:5000/v3 now', secrets: [], want: 'see http://keystone:5000/v3 now' },
    { name: 'a secret query parameter goes', text: 'https://x/y?os_token=abc&limit=5', secrets: [], want: `https://x/y?os_token=${REDACTED}&limit=5` },
  ];
  for (const row of rows) it(row.name, () => assert.equal(redactText(row.text, row.secrets), row.want));

  it('keeps the shape of a document: booleans stay booleans, secret fields are redacted by name', () => {
    const doc = { admin: true, host: 'compute-01', auth: { password: 'x', token: 'y' }, n: 3, list: ['true'] };
    assert.deepEqual(redactDeep(doc, ['true']), { admin: true, host: 'compute-01', auth: { password: REDACTED, token: REDACTED }, n: 3, list: [REDACTED] });
    assert.deepEqual(redactDeep({ auth: { password: 'x' } }, [], { byKey: false }), { auth: { password: 'x' } });
  });

  it('escapes control characters of the cloud\'s text', () => {
    assert.equal(escapeControls('\u001b[31mEVIL\u0007\tok\n'), '\\x1b[31mEVIL\\x07\tok\n');
  });
});
