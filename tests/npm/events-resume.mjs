// Resume with the graphql-ws npm client: subscribe to holdEvents of one lot after a cursor and take N events.
// Usage: node events-resume.mjs <graphql url> <lot id> <after cursor> <count>. Prints one JSON array of the events.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, lotId, after, count] = process.argv.slice(2);
const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
const query = `subscription($lots: [ID!], $after: String) {
  holdEvents(lotIds: $lots, after: $after) { cursor type source payload }
}`;
const deadline = setTimeout(() => {
  console.error(`fewer than ${count} events within 20 s`);
  process.exit(3);
}, 20000);

const events = [];
for await (const result of client.iterate({ query, variables: { lots: [lotId], after } })) {
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  events.push(result.data.holdEvents);
  if (events.length === Number(count)) break;
}
clearTimeout(deadline);
await client.dispose();
console.log(JSON.stringify(events));
