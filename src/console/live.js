// The tab's one connection to `/ws`: events applied by seq, resumed with `since` after a cut
// (backoff with jitter), `resync_required` reloads, and a banner while it is down.

const PING_EVERY = 25000;

export class Live {
  /**
   * handlers: hello(frame), event(frame) for frames with a seq, ephemeral(frame) for typing and
   * presence, resync() when the lists must be reloaded.
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.seq = null;
    this.attempt = 0;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
    this.ping = null;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.ping);
    if (this.socket) this.socket.close();
    banner(false);
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = this.seq === null ? "" : `?since=${this.seq}`;
    const socket = new WebSocket(`${scheme}://${location.host}/ws${since}`, ["bearer", this.token]);
    this.socket = socket;
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onopen = () => {
      this.attempt = 0;
      clearInterval(this.ping);
      this.ping = setInterval(() => this.send({ type: "ping" }), PING_EVERY);
    };
    socket.onclose = () => {
      clearInterval(this.ping);
      if (this.socket !== socket || this.stopped) return;
      banner(true);
      this.retry();
    };
  }

  retry() {
    // 0.5 s doubling to 15 s, each wait drawn at random from its upper half.
    const ceiling = Math.min(15000, 500 * 2 ** this.attempt);
    const wait = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), wait);
  }

  receive(frame) {
    if (frame.type === "hello") {
      banner(false);
      if (this.seq === null) this.seq = frame.seq;
      this.handlers.hello(frame);
      return;
    }
    if (frame.type === "resync_required") {
      // What was missed cannot be replayed: reload the lists, then follow from now on.
      this.seq = null;
      this.handlers.resync();
      return;
    }
    if (frame.type === "pong") return;
    if (typeof frame.seq === "number") {
      if (this.seq !== null && frame.seq <= this.seq) return;
      this.seq = frame.seq;
      this.handlers.event(frame);
      return;
    }
    this.handlers.ephemeral(frame);
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }
}

function banner(show) {
  const node = document.getElementById("banner");
  if (node) node.hidden = !show;
}
