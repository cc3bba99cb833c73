// lotgraph's GraphiQL page: GraphiQL served by the gateway itself (no CDN), talking to this page's own /graphql.
// A link ending in #token=<bearer token> (the demo prints one) fills in the Authorization header and signs in the
// WebSocket used for subscriptions; the token stays in this tab only (sessionStorage), and the fragment, which
// never reaches a server, is removed from the address bar at once.
(function () {
  "use strict";
  const TOKEN_KEY = "lotgraph.graphiql.token";
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (fragment.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  const endpoint = new URL(window.location.pathname, window.location.href);
  const socket = new URL(endpoint);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  const authorization = token ? { Authorization: "Bearer " + token } : {};
  const fetcher = GraphiQL.createFetcher({
    url: endpoint.toString(),
    subscriptionUrl: socket.toString(),
    wsConnectionParams: authorization,
  });
  const welcome = [
    "# lotgraph: GraphQL over the plant's ERP, QMS, MES and WMS.",
    "# The README's examples run here as printed; Ctrl-Enter runs a query.",
    token ? "# Signed in: the Headers tab below carries your token." : "# Put a bearer token in the Headers tab below.",
    "",
    "{",
    "  sourceHealth { source state lastLatencyMs }",
    "}",
    "",
  ].join("\n");
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: welcome,
      headers: JSON.stringify(authorization, null, 2),
      defaultEditorToolsVisibility: token ? "headers" : true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
