// The nfacct tool's listing, as `nfacct list` prints it (nfacct 1.0.2), read into packet counts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseNfacctList } from '../../../src/dataplanes/iptables/nfacct.js';

describe('nfacct list', () => {
  it('reads each counter by name; other output is ignored', () => {
    const text = [
      '{ pkts = 00000000000000000003, bytes = 00000000000000000180 } = localhost_nps_accepted_pkts;',
      '{ pkts = 00000000000000000000, bytes = 00000000000000000000 } = ct_state_invalid_dropped_pkts;',
      '{ pkts = 18446744073709551615, bytes = 00000000000000000001 } = someone-else;',
      'not a counter line',
    ].join('\n');
    const m = parseNfacctList(text);
    assert.equal(m.get('localhost_nps_accepted_pkts'), 3n);
    assert.equal(m.get('ct_state_invalid_dropped_pkts'), 0n);
    assert.equal(m.get('someone-else'), 18446744073709551615n);
    assert.equal(m.size, 3);
    assert.equal(parseNfacctList('').size, 0);
  });
});
