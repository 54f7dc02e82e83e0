/** The SVG renderer behind docs/images/ (test/fixtures/events/screenshot.ts). */
import { strict as assert } from 'node:assert';
import { parseScreen, screenSvg } from '../../fixtures/events/screenshot.js';

describe('screenshot renderer (captured screen -> SVG)', () => {
  it('keeps colours, bold and dim; draws bar blocks as cells; escapes XML', () => {
    const rows = parseScreen('\u001b[1mhostmaint <drain>\u001b[22m\n\u001b[32m✓ ok\u001b[39m \u001b[32m██\u001b[2m░\u001b[0m & done\n');
    assert.equal(rows.length, 2);
    assert.equal(rows[0]?.[0]?.bold, true);
    assert.equal(rows[1]?.[0]?.fg, '#98c379');
    const svg = screenSvg(rows, { cols: 40, title: 'test' });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /font-weight="bold"[^>]*>hostmaint &lt;drain&gt;<\/tspan>/);
    assert.equal(svg.match(/<rect x=/g)?.length, 3, 'three bar cells');
    assert.match(svg, /&amp; done/);
  });
});
