// A small graphql-transport-ws client: connection_init/ack, subscribe/next/error/complete, ping/pong, and
// reconnection with exponential backoff. Subscriptions outlive a connection: after a reconnect each one is sent
// again with variables computed afresh (so a subscription can resume `after` the last cursor it saw).
//
// Protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md (subprotocol "graphql-transport-ws").

const PROTOCOL = "graphql-transport-ws";

// Close codes after which reconnecting with the same credentials cannot help.
const REFUSED = new Set([4401, 4403]);

export class Connection {
  // url: ws:// or wss:// URL of the GraphQL endpoint.
  // connectionParams(): the connection_init payload, asked for on every (re)connect.
  // onState(state, detail): state is "connecting", "open", "retrying" (detail.delay, detail.attempt, detail.reason)
  //   or "refused" (detail.code, detail.reason: the server refused the credentials; call restart() after sign-in).
  constructor(url, { connectionParams = () => ({}), onState = () => {}, backoff = {}, ackTimeout = 5000,
    pingInterval = 10000, pongTimeout = 5000 } = {}) {
    this.url = url;
    this.connectionParams = connectionParams;
    this.onState = onState;
    this.initialDelay = backoff.initial ?? 500;
    this.maxDelay = backoff.max ?? 8000;
    this.ackTimeout = ackTimeout;
    this.pingInterval = pingInterval;
    this.pongTimeout = pongTimeout;
    this.subscriptions = new Map(); // id -> {request, sink}
    this.nextId = 1;
    this.socket = null;
    this.acked = false;
    this.attempt = 0;
    this.stopped = true;
    this.timers = {};
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this._connect();
  }

  // Close and connect again at once (e.g. with a new token).
  restart() {
    this._teardown(1000, "restart");
    this.start();
  }

  stop() {
    this.stopped = true;
    this._teardown(1000, "stopped");
  }

  // request: {query, variables: () => object}; sink: {next(data, errors), error(errors), complete()}.
  // Returns a function that ends the subscription.
  subscribe(request, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { request, sink });
    if (this.acked) this._sendSubscribe(id);
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.acked) this._send({ id, type: "complete" });
    };
  }

  // One query over the connection, answered once: resolves to {data, errors}. Operations on one connection are
  // started in the order they are sent, so the answer also says that the subscriptions sent before it have started.
  request(query, variables = {}) {
    return new Promise((resolve) => {
      let end = null;
      const settle = (answer) => {
        end?.();
        resolve(answer);
      };
      end = this.subscribe(
        { query, variables },
        {
          next: (data, errors) => settle({ data, errors: errors ?? [] }),
          error: (errors) => settle({ data: null, errors }),
          complete: () => settle({ data: null, errors: [] }),
        },
      );
    });
  }

  _connect() {
    this._clearTimers();
    this.acked = false;
    this.onState("connecting", { attempt: this.attempt });
    let socket;
    try {
      socket = new WebSocket(this.url, PROTOCOL);
    } catch (err) {
      this._retry(`cannot open a WebSocket: ${err.message}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      Promise.resolve()
        .then(() => this.connectionParams())
        .then((payload) => {
          if (socket !== this.socket) return;
          this._send({ type: "connection_init", payload: payload ?? {} });
          this.timers.ack = setTimeout(() => this._drop(4408, "no connection_ack in time"), this.ackTimeout);
        })
        .catch((err) => this._drop(4400, `connection parameters: ${err.message}`));
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this._receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.acked = false;
      this._clearTimers();
      if (this.stopped) return;
      if (REFUSED.has(event.code)) {
        this.onState("refused", { code: event.code, reason: event.reason || "credentials refused" });
        return;
      }
      this._retry(describeClose(event));
    };
    // onerror is always followed by onclose, which decides what happens next.
    socket.onerror = () => {};
  }

  _receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this._drop(4400, "the server sent a message that is not JSON");
      return;
    }
    switch (message.type) {
      case "connection_ack":
        clearTimeout(this.timers.ack);
        this.acked = true;
        this.attempt = 0;
        this.onState("open", {});
        for (const id of this.subscriptions.keys()) this._sendSubscribe(id);
        this._schedulePing();
        break;
      case "ping":
        this._send({ type: "pong" });
        break;
      case "pong":
        clearTimeout(this.timers.pong);
        this._schedulePing();
        break;
      case "next": {
        const sub = this.subscriptions.get(message.id);
        if (sub) sub.sink.next(message.payload?.data ?? null, message.payload?.errors ?? null);
        break;
      }
      case "error": {
        const sub = this.subscriptions.get(message.id);
        if (sub) {
          this.subscriptions.delete(message.id);
          sub.sink.error(message.payload ?? []);
        }
        break;
      }
      case "complete": {
        const sub = this.subscriptions.get(message.id);
        if (sub) {
          this.subscriptions.delete(message.id);
          sub.sink.complete?.();
        }
        break;
      }
      default:
        this._drop(4400, `unexpected message type ${JSON.stringify(message.type)}`);
    }
  }

  _sendSubscribe(id) {
    const { request } = this.subscriptions.get(id);
    const variables = typeof request.variables === "function" ? request.variables() : request.variables ?? {};
    this._send({ id, type: "subscribe", payload: { query: request.query, variables } });
  }

  // Keep-alive: a ping after `pingInterval` of quiet; no pong within `pongTimeout` means the link is dead.
  _schedulePing() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      this._send({ type: "ping" });
      this.timers.pong = setTimeout(() => this._drop(4499, "no pong from the server"), this.pongTimeout);
    }, this.pingInterval);
  }

  _send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  // Close the socket and reconnect.
  _drop(code, reason) {
    const socket = this.socket;
    this._teardown(code, reason);
    if (socket && !this.stopped) this._retry(reason);
  }

  _teardown(code, reason) {
    this._clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.acked = false;
    if (socket) {
      try {
        socket.close(code >= 4000 || code === 1000 ? code : 1000, reason.slice(0, 120));
      } catch {
        socket.close();
      }
    }
  }

  _retry(reason) {
    this._clearTimers();
    const base = Math.min(this.maxDelay, this.initialDelay * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.onState("retrying", { delay, attempt: this.attempt, reason });
    this.timers.retry = setTimeout(() => this._connect(), delay);
  }

  _clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = {};
  }
}

function describeClose(event) {
  if (event.code === 1006) return "the gateway stopped answering";
  if (event.code === 1001 || event.code === 1012) return "the gateway is restarting";
  const reason = event.reason ? `: ${event.reason}` : "";
  return `closed by the gateway (${event.code}${reason})`;
}
