// Apollo Federation v2 check: compose lotgraph's subgraph with a tiny second subgraph ("carriers", which extends
// Shipment with its tracking and lists deliveries that point at shipments), serve the supergraph with
// @apollo/gateway, and run queries that cross both subgraphs.
// Usage: node federation.mjs <lotgraph subgraph url> <plant url> '<shipment ids as JSON>'.
// Prints one JSON object: {crossing, entities, erpRequests, compositionHints}.
import http from 'node:http';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';

const [lotgraphUrl, plantUrl, idsJson] = process.argv.slice(2);
const shipmentIds = JSON.parse(idsJson);

const carriersTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    deliveries: [Delivery!]!
  }

  "A carrier's delivery of one lotgraph shipment."
  type Delivery {
    number: String!
    carrier: String!
    shipment: Shipment!
  }

  type Shipment @key(fields: "id") {
    id: ID!
    trackingNumber: String!
  }
`);
const tracking = (id) => `TRK-${id}`;
const carriersSchema = buildSubgraphSchema({
  typeDefs: carriersTypeDefs,
  resolvers: {
    Query: {
      deliveries: () => shipmentIds.map((id, i) => ({ number: `D${i + 1}`, carrier: 'ACME', shipment: { id } })),
    },
    Shipment: {
      __resolveReference: (ref) => ({ id: ref.id, trackingNumber: tracking(ref.id) }),
      trackingNumber: (shipment) => tracking(shipment.id),
    },
  },
});
const carriersServer = http.createServer(createHandler({ schema: carriersSchema }));
await new Promise((resolve) => carriersServer.listen(0, '127.0.0.1', resolve));
const carriersUrl = `http://127.0.0.1:${carriersServer.address().port}/graphql`;

async function post(url, query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

const lotgraphSdl = (await post(lotgraphUrl, '{ _service { sdl } }')).data._service.sdl;
const composition = composeServices([
  { name: 'lotgraph', url: lotgraphUrl, typeDefs: parse(lotgraphSdl) },
  { name: 'carriers', url: carriersUrl, typeDefs: carriersTypeDefs },
]);
if (composition.errors) {
  throw new Error(`composition failed:\n${composition.errors.map((e) => e.message).join('\n')}`);
}

const gateway = new ApolloGateway({ supergraphSdl: composition.supergraphSdl });
const server = new ApolloServer({ gateway });
const { url: supergraphUrl } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });

try {
  // lotgraph's root field, with a field the carriers subgraph adds to Shipment.
  const crossing = await post(
    supergraphUrl,
    `query Crossing($ids: [ID!]) {
       shipments(ids: $ids) { edges { node { id status trackingNumber order { id status } } } }
     }`,
    { ids: shipmentIds },
  );
  // The carriers' root field, with lotgraph's fields of the shipments it points at: one _entities call to
  // lotgraph for all of them, which must cost one ERP call.
  await fetch(`${plantUrl}/erp/admin/stats/reset`, { method: 'POST' });
  const entities = await post(
    supergraphUrl,
    `{ deliveries { number carrier shipment { id status trackingNumber lines { lots { id } } } } }`,
  );
  const stats = await (await fetch(`${plantUrl}/erp/admin/stats`)).json();
  const hints = (composition.hints ?? []).map((h) => h.message);
  console.log(JSON.stringify({ crossing, entities, erpRequests: stats.requests, compositionHints: hints }));
} finally {
  await server.stop();
  carriersServer.close();
}
