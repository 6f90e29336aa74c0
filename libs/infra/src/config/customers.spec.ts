import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerList } from './customers.js';

describe('customer list', () => {
  it('is everyone when nothing is set, else the lower-cased CUSTOMERS', async () => {
    expect(await customerList({ customers: null, customersFile: null })()).toBeNull();
    expect(await customerList({ customers: ['alexellis'], customersFile: null })()).toEqual(['alexellis']);
  });

  it('reads CUSTOMERS_FILE (newline or comma separated, # comments) and re-reads it when it changes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'faasline-customers-')), 'CUSTOMERS');
    writeFileSync(file, 'AlexEllis\n# a comment\nopenfaas, rgee0\n');
    const list = customerList({ customers: null, customersFile: file });
    expect(await list()).toEqual(['alexellis', 'openfaas', 'rgee0']);
    writeFileSync(file, 'someone\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await list()).toEqual(['someone']);
  });
});
