import { strict as assert } from 'node:assert';
import { clean, colorWanted, COLOR, displayWidth, fit, stripAnsi, truncate, unicodeWanted } from '../../../src/report/ansi.js';

describe('terminal text helpers', () => {
  it('clean removes escape sequences and control characters from untrusted text', () => {
    assert.equal(clean('a\u001b[31mb\u001b[0m\u001b]0;title\u0007c\td\ne\u0000\u009b'), 'abc d e');
    assert.equal(clean(null), '');
  });
  it('display width ignores escapes and counts wide characters twice', () => {
    assert.equal(displayWidth(COLOR.red('abc')), 3);
    assert.equal(displayWidth('日本'), 4);
    assert.equal(displayWidth('██░'), 3);
  });
  it('truncate keeps colours, adds an ellipsis and a reset', () => {
    const t = truncate(COLOR.green('compute-01 → compute-02'), 10);
    assert.equal(stripAnsi(t), 'compute-0…');
    assert.ok(t.endsWith('\u001b[0m'));
    assert.equal(truncate('short', 10), 'short');
    assert.equal(displayWidth(truncate('日本語のホスト名', 7)), 7);
  });
  it('fit pads or cuts to the exact width', () => {
    assert.equal(fit('ab', 4), 'ab  ');
    assert.equal(fit('ab', 4, 'right'), '  ab');
    assert.equal(fit('abcdef', 4), 'abc…');
  });
  it('NO_COLOR, TERM=dumb and --no-color turn colour off; a non-UTF-8 locale gets ASCII', () => {
    assert.equal(colorWanted({}), true);
    assert.equal(colorWanted({ NO_COLOR: '1' }), false);
    assert.equal(colorWanted({ TERM: 'dumb' }), false);
    assert.equal(colorWanted({}, false), false);
    assert.equal(unicodeWanted({ LANG: 'en_US.UTF-8' }), true);
    assert.equal(unicodeWanted({ LANG: 'C' }), false);
    assert.equal(unicodeWanted({ LC_ALL: 'POSIX', LANG: 'en_US.UTF-8' }), false);
  });
});
