// The live page: polls /api/overview, /api/ephemeral and /api/sockets and draws
// the host, the exhaustion gauges, the listeners and the graph of socket pairs;
// follows /events (Server-Sent Events) for the connection log. Field names are
// the API's (the CLI's --json); everything from the server goes in as text.
"use strict";
(function () {
  const kPollMs = 5000;
  const kSocketsEvery = 2;  // /api/sockets, the largest answer, on every 2nd poll
  const kGauges = 8;
  const kFeedRows = 200;
  const kIanaDynamic = [49152, 65535];

  const byId = (id) => document.getElementById(id);
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.dataset[k.slice(5).replace(/-(.)/g, (_, c) => c.toUpperCase())] = v;
      else e.setAttribute(k, v);
    }
    e.append(...children.map((c) => (c instanceof Node ? c : String(c))));
    return e;
  }
  const { endpointText, statesText } = window.SockscopeGraph;
  const number = (n) => Number(n).toLocaleString("en-US");
  const pct = (p) => (Math.round(p * 10) / 10) + "%";
  const serviceText = (name, source) => (name ? name + (source === "iana" ? "?" : "") : "-");
  const processText = (ps) => (ps || []).map((p) => p.command + "[" + p.pid + "]").join(", ");

  function jsonLines(text) {
    return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  }
  async function records(path) {
    const res = await fetch(path, { cache: "no-store" });
    const text = await res.text();
    if (!res.ok) throw new Error(path + ": " + res.status + " " + text.trim());
    return jsonLines(text);
  }

  // --- this host -----------------------------------------------------------
  function showSummary(summary) {
    const rows = [
      ["sockets", number(summary.sockets)],
      ["listening", number(summary.listeners)],
      ["accepted/served", number(summary.server_side)],
      ["client", number(summary.client_side)],
      ["unclassified", number(summary.unknown)],
      ["network namespaces", number(summary.network_namespaces)],
      ["read from", summary.source],
      ["owners", summary.owners ? "looked up" : "not looked up (serve -p)"],
    ];
    byId("summary").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function rangeRow(name, first, last, kind) {
    const band = el("div", { "class": "range-band " + kind });
    band.style.left = (first / 65536 * 100) + "%";
    band.style.width = ((last - first + 1) / 65536 * 100) + "%";
    return el("div", { "class": "range-row", "data-range": kind },
              el("span", {}, name, el("br"),
                 el("small", { "class": "hint" }, first + "-" + last + " (" +
                    number(last - first + 1) + " ports)")),
              el("div", { "class": "range-track", "title": name + ": " + first + "-" + last }, band));
  }

  // bind_pool.range is the host's net.ipv4.ip_local_port_range ("32768-60999").
  function showRanges(pool) {
    const box = byId("ranges");
    const m = pool && /^(\d+)-(\d+)$/.exec(pool.range || "");
    if (!m) {
      box.replaceChildren();
      return;
    }
    const [first, last] = [Number(m[1]), Number(m[2])];
    const [ifirst, ilast] = kIanaDynamic;
    const overlap = Math.max(0, Math.min(last, ilast) - Math.max(first, ifirst) + 1);
    const size = last - first + 1;
    const where = overlap === size ? "The host's range lies inside IANA's dynamic ports."
        : number(size - overlap) + " of its " + number(size) + " ports lie outside IANA's " +
          "dynamic ports, among ports IANA registers for services.";
    const reserved = pool.reserved ? " Reserved (never lent): " + pool.reserved + "." : "";
    box.replaceChildren(
        rangeRow("this host's ephemeral range", first, last, "host"),
        rangeRow("IANA's dynamic ports", ifirst, ilast, "iana"),
        el("div", { "class": "range-axis" }, ...[0, 32768, 49152, 65535].map((port) => {
          const mark = el("span", {}, port);
          mark.style.left = (port / 65536 * 100) + "%";
          return mark;
        })),
        el("p", { "class": "note" }, where + reserved));
  }

  function showPressure(items) {
    byId("pressure").replaceChildren(...items.map((p) => {
      let what = p.pressure + ": " + number(p.count);
      if (p.limit !== undefined && p.limit !== null) what += " of " + number(p.limit);
      if (p.utilization_pct !== undefined && p.utilization_pct !== null) what += " (" + pct(p.utilization_pct) + ")";
      if (p.remote) what += " toward " + endpointText(p.remote);
      if (p.port !== undefined && p.port !== null) what += " on port " + p.port;
      if (p.hint) what += ": " + p.hint;
      return el("li", { "class": p.level }, what);
    }));
  }

  // --- exhaustion gauges ---------------------------------------------------
  function gauge(what, used, capacity, timeWait, utilization, attrs) {
    const level = utilization >= 100 ? "error" : utilization >= 80 ? "warning" : "ok";
    const usedBar = el("div", { "class": "gauge-used" });
    const twBar = el("div", { "class": "gauge-tw" });
    const share = capacity > 0 ? used / capacity : 1;
    usedBar.style.width = Math.min(100, share * 100) + "%";
    twBar.style.width = (capacity > 0 ? Math.min(100, timeWait / capacity * 100) : 0) + "%";
    const tw = timeWait === null ? "" : ", " + number(timeWait) + " in TIME-WAIT" +
        (used > 0 ? " (" + pct(timeWait / used * 100) + " of used)" : "");
    return el("div", Object.assign({ "class": "gauge " + level, "data-used": used,
                                     "data-capacity": capacity,
                                     "data-utilization-pct": utilization }, attrs),
              el("div", { "class": "gauge-label" }, el("span", { "class": "what" }, what),
                 el("span", { "class": "how" }, number(used) + " of " + number(capacity) +
                    " ports (" + pct(utilization) + ")" + tw)),
              el("div", { "class": "gauge-track", "role": "meter", "aria-valuemin": "0",
                          "aria-valuemax": String(capacity), "aria-valuenow": String(used),
                          "aria-label": what }, usedBar, twBar));
  }

  function showGauges(list) {
    const destinations = list.filter((r) => r.kind === "destination").slice(0, kGauges);
    const pool = list.find((r) => r.kind === "bind_pool");
    const out = destinations.map((d) => gauge(
        d.transport + " " + d.local_address + " \u2192 " +
            (d.remote ? endpointText(d.remote) : "any destination (UDP: per local address)"),
        d.used, d.capacity, d.time_wait, d.utilization_pct,
        { "data-transport": d.transport, "data-local": d.local_address,
          "data-remote": d.remote ? endpointText(d.remote) : "" }));
    if (pool) {
      out.push(gauge("bind(port 0) pool: ports no TCP socket uses", pool.used, pool.capacity, null,
                     pool.utilization_pct, { "data-pool": "bind" }));
    }
    if (out.length === 0) out.push(el("p", { "class": "note" }, "No client connections."));
    byId("gauges").replaceChildren(...out);
    showRanges(pool);
  }

  // --- listeners -----------------------------------------------------------
  function showListeners(rows, owners) {
    const trs = rows.map((l) => {
      const queue = l.accept_queue === null || l.accept_queue === undefined ? "-"
          : l.accept_queue + "/" + l.accept_backlog + (l.accept_queue_full ? " full" : "");
      const owner = l.processes ? processText(l.processes)
          : l.owner_missing ? "(" + l.owner_missing + ")" : owners ? "-" : "(serve -p)";
      const where = (l.addresses || []).join(", ") + (l.dual_stack ? " (dual-stack)" : "");
      return el("tr", { "class": (l.accept_queue_full ? "full " : "") + l.kind,
                        "data-transport": l.transport, "data-port": l.port },
                el("td", {}, l.port + "/" + l.transport + (l.kind === "served" ? " (gone)" : "")),
                el("td", {}, serviceText(l.service, l.service_source)),
                el("td", {}, where || "-"),
                el("td", {}, owner),
                el("td", { "class": "connections" }, statesText(l.connections || {})),
                el("td", { "class": "num" }, number(l.client_hosts)),
                el("td", { "class": "num queue" }, queue));
    });
    if (trs.length === 0) trs.push(el("tr", {}, el("td", { "colspan": "7" }, "Nothing listens.")));
    byId("listeners").tBodies[0].replaceChildren(...trs);
  }

  // --- polling -------------------------------------------------------------
  let graph = null;
  let polls = 0;
  const failures = new Map();

  function status() {
    const s = byId("status");
    if (failures.size) {
      s.className = "status bad";
      s.textContent = [...failures.values()].join("; ");
    } else {
      s.className = "status ok";
      s.textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    }
  }

  async function load(path, show) {
    try {
      show(await records(path));
      failures.delete(path);
    } catch (e) {
      failures.set(path, e.message);
    }
  }

  async function poll() {
    if (document.hidden && polls > 0) return;
    const jobs = [
      load("/api/overview", (list) => {
        const summary = list.find((r) => r.kind === "summary");
        if (summary) showSummary(summary);
        showListeners(list.filter((r) => r.kind === "listener" || r.kind === "served"),
                      summary && summary.owners);
        showPressure(list.filter((r) => r.kind === "pressure"));
      }),
      load("/api/ephemeral", showGauges),
    ];
    if (polls % kSocketsEvery === 0) {
      jobs.push(load("/api/sockets", (list) => {
        if (!graph) graph = new window.SockscopeGraph.Graph(byId("graph"), byId("legend"), byId("beyond"));
        graph.update(list);
      }));
    }
    polls += 1;
    await Promise.all(jobs);
    status();
  }

  async function pollForever() {
    await poll();
    setTimeout(pollForever, kPollMs);
  }

  // --- the connection log --------------------------------------------------
  function timeText(seconds) {
    const d = new Date(seconds * 1000);
    return d.toLocaleTimeString("en-GB") + "." + String(d.getMilliseconds()).padStart(3, "0");
  }

  function eventRow(kind, e) {
    const cells = kind === "lost"
        ? [timeText(Date.now() / 1000), "lost", number(e.events_lost) + " events missed (this page fell behind)",
           "", "", "", "", "", "", "", ""]
        : [timeText(e.time), kind, endpointText(e.local), endpointText(e.remote), e.role,
           e.service || "-", processText(e.processes) || (e.owner_missing ? "(" + e.owner_missing + ")" : "-"),
           e.duration === undefined ? "-" : e.duration.toFixed(3) + " s",
           e.sent_bytes === undefined ? "-" : number(e.sent_bytes),
           e.received_bytes === undefined ? "-" : number(e.received_bytes),
           e.state || (e.lost ? "lost" : "-")];
    const tr = el("tr", { "class": kind, "data-event": kind,
                          "data-transport": e.transport || "",
                          "data-local-port": e.local ? e.local.port : "",
                          "data-remote-port": e.remote ? e.remote.port : "" });
    cells.forEach((text, i) => tr.append(el("td", i === 1 ? { "class": "ev" } : {}, text)));
    return tr;
  }

  function follow() {
    const state = byId("feed-state");
    const body = byId("events").tBodies[0];
    const source = new EventSource("/events");
    const add = (kind) => (message) => {
      let e;
      try {
        e = JSON.parse(message.data);
      } catch (err) {
        return;  // not an event record
      }
      body.prepend(eventRow(kind, e));
      while (body.rows.length > kFeedRows) body.deleteRow(-1);
    };
    for (const kind of ["open", "close", "listen", "unlisten", "lost"]) {
      source.addEventListener(kind, add(kind));
    }
    source.onopen = () => {
      state.className = "status ok";
      state.textContent = "live";
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. 503: the server's limit of event streams): try again later.
        state.className = "status bad";
        state.textContent = "refused; trying again in 15 s";
        source.close();
        setTimeout(follow, 15000);
      } else {
        state.className = "status bad";
        state.textContent = "reconnecting";
      }
    };
  }

  byId("where").textContent = "served from " + location.host;
  follow();
  pollForever();
})();
