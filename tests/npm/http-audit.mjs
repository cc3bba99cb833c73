// The graphql-http server audits (GraphQL over HTTP conformance) against a live gateway.
// Usage: node http-audit.mjs <graphql url>. Prints one JSON array: {id, name, status, reason} per audit.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
