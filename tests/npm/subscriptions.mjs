// A subscription driven by the graphql-ws (WebSocket, graphql-transport-ws) or graphql-sse (Server-Sent Events,
// distinct connections) npm client against a live gateway: place a hold over HTTP, then subscribe to holdEvents
// from the start of the log (after: "") and take the first HoldPlaced of that lot; while subscribed, read /metrics.
// Usage: node subscriptions.mjs ws|sse <graphql url> <lot id>. Prints one JSON object: {placed, event, metrics}.
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

const [mode, url, lotId] = process.argv.slice(2);
const base = url.replace(/\/graphql$/, '');

const place = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({
    query: `mutation($input: PlaceHoldInput!) { placeHold(input: $input) { complete holds { id lotId } errors { code } } }`,
    variables: { input: { lotIds: [lotId], reasonCode: 'OUT_OF_SPEC', idempotencyKey: `conformance-${mode}-${lotId}` } },
  }),
});
const placed = await place.json();

const client =
  mode === 'ws'
    ? createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true })
    : createSseClient({ url, retryAttempts: 0 });

const query = `subscription($lots: [ID!]) {
  holdEvents(lotIds: $lots, after: "") { cursor type source correlationId keys { lotIds } }
}`;
const deadline = setTimeout(() => {
  console.error(`no HoldPlaced event for ${lotId} within 20 s`);
  process.exit(3);
}, 20000);

let event = null;
let metrics = null;
const subscription = client.iterate({ query, variables: { lots: [lotId] } });
for await (const result of subscription) {
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const received = result.data.holdEvents;
  if (received.type === 'HoldPlaced') {
    event = received;
    metrics = await (await fetch(`${base}/metrics`)).text();
    break; // ends the iteration: the client completes the subscription
  }
}
clearTimeout(deadline);
await client.dispose();
const active = metrics.match(/^lotgraph_graphql_active_subscriptions (\S+)$/m);
console.log(JSON.stringify({ placed, event, activeSubscriptions: active ? Number(active[1]) : null }));
