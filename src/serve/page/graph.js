// The graph of socket pairs for the live page: local listeners and programs on
// the left, remote hosts grouped by service on the right, a line per pair of
// them with its connections by state. Laid out by d3-force, drawn as plain SVG.
// Beyond kMaxNodes nodes (this host's own and the busiest remote hosts are kept)
// the others' pairs go into a table.
// Input: the records of /api/sockets, with their field names.
"use strict";
window.SockscopeGraph = (function () {
  const kMaxNodes = 300;
  const kBeyondRows = 500;
  const kLabels = 60;  // beyond this many nodes only this host's and the busiest are named
  const kSvg = "http://www.w3.org/2000/svg";
  const kStateColors = {
    "ESTAB": "#2f855a", "TIME-WAIT": "#718096", "SYN-SENT": "#dd6b20", "SYN-RECV": "#dd6b20",
    "CLOSE-WAIT": "#c53030", "FIN-WAIT-1": "#805ad5", "FIN-WAIT-2": "#805ad5",
    "LAST-ACK": "#805ad5", "CLOSING": "#805ad5", "CLOSE": "#718096", "UNCONN": "#3182ce",
  };
  const kPalette = ["#3182ce", "#dd6b20", "#38a169", "#d53f8c", "#805ad5", "#d69e2e",
                    "#319795", "#e53e3e", "#5a67d8", "#975a16"];

  function endpointText(e) {
    if (!e) return "-";
    return (e.address.includes(":") ? "[" + e.address + "]" : e.address) + ":" + e.port;
  }
  function statesText(states) {
    const parts = Object.entries(states).sort((a, b) => b[1] - a[1]);
    return parts.length ? parts.map(([s, n]) => n + " " + s).join(", ") : "-";
  }
  function mainState(states) {
    let best = null;
    for (const [s, n] of Object.entries(states)) if (!best || n > states[best]) best = s;
    return best;
  }
  function colorOf(name) {
    let h = 0;
    for (let i = 0; i < name.length; ++i) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return kPalette[h % kPalette.length];
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(kSvg, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  // Nodes and edges from socket records; nodes carry a weight (connections).
  function build(records) {
    const nodes = new Map();
    const edges = new Map();
    function node(key, kind, label, group) {
      let n = nodes.get(key);
      if (!n) nodes.set(key, n = { key, kind, label, group, weight: 0 });
      return n;
    }
    function listener(transport, port, service) {
      return node("L|" + transport + "|" + port, "listener",
                  port + "/" + transport + (service ? " " + service : ""), null);
    }
    function edge(a, b, transport, state, owns) {
      const key = a.key + ">" + b.key + "|" + transport + (owns ? "|owns" : "");
      let e = edges.get(key);
      if (!e) edges.set(key, e = { key, source: a.key, target: b.key, transport, owns,
                                   states: {}, total: 0 });
      if (owns) return;
      e.states[state] = (e.states[state] || 0) + 1;
      e.total += 1;
      a.weight += 1;
      b.weight += 1;
    }
    for (const r of records) {
      const processes = r.processes || [];
      if (r.role === "listener") {
        const l = listener(r.transport, r.local.port, r.service);
        for (const p of processes) {
          edge(node("P|" + p.pid, "process", p.command + "[" + p.pid + "]", null), l,
               r.transport, null, true);
        }
        continue;
      }
      if (!r.remote) continue;  // an unconnected socket: no pair
      if (r.role === "server") {
        const group = r.service || "port " + r.local.port;
        const remote = node("R|" + group + "|" + r.remote.address, "remote", r.remote.address, group);
        edge(listener(r.transport, r.local.port, r.service), remote, r.transport, r.state, false);
        continue;
      }
      const group = r.role === "client" ? (r.service || "port " + r.remote.port) : "unclassified";
      const local = processes.length
          ? node("P|" + processes[0].pid, "process",
                 processes[0].command + "[" + processes[0].pid + "]", null)
          : node("A|" + r.local.address, "local", r.local.address, null);
      const remote = node("R|" + group + "|" + r.remote.address, "remote", r.remote.address, group);
      edge(local, remote, r.transport, r.state, false);
    }
    return { nodes, edges };
  }

  function Graph(svgElement, legendElement, beyondBox) {
    this.svg = svgElement;
    this.legend = legendElement;
    this.beyond = beyondBox;
    this.nodes = new Map();  // key -> node, kept across updates (positions stay)
    this.edges = [];
    this.drawn = new Map();  // key -> {g, ...} SVG elements
    this.edgeLayer = svg("g", { "class": "edges" });
    this.groupLayer = svg("g", { "class": "groups" });
    this.nodeLayer = svg("g", { "class": "nodes" });
    this.svg.append(this.edgeLayer, this.groupLayer, this.nodeLayer);
    this.simulation = d3.forceSimulation()
        .force("link", d3.forceLink().id((d) => d.key).distance(70).strength(0.2))
        .force("charge", d3.forceManyBody().strength(-90).distanceMax(250))
        .force("collide", d3.forceCollide((d) => d.r + 3))
        .force("x", d3.forceX((d) => d.ax).strength(0.3))
        .force("y", d3.forceY((d) => d.ay).strength(0.05))
        .on("tick", () => this.tick())
        .stop();
  }

  Graph.prototype.size = function () {
    const w = this.svg.clientWidth || 800;
    const h = this.svg.clientHeight || 460;
    this.svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    return [w, h];
  };

  // Replaces the graph's content with what `records` (socket records) show.
  Graph.prototype.update = function (records) {
    const { nodes, edges } = build(records);
    let kept = [...nodes.values()];
    let beyond = [];
    if (kept.length > kMaxNodes) {
      // This host's side (listeners, programs) first, then the busiest remote hosts.
      const rank = (n) => (n.kind === "remote" ? 0 : 1e9) + n.weight;
      kept.sort((a, b) => rank(b) - rank(a));
      kept = kept.slice(0, kMaxNodes);
    }
    const keep = new Set(kept.map((n) => n.key));
    const shown = [];
    for (const e of edges.values()) {
      (keep.has(e.source) && keep.has(e.target) ? shown : beyond).push(e);
    }
    // A crowded graph gets more room.
    const tall = (this.svg.clientWidth || 800) < 600 ? "560px" : "720px";
    this.svg.style.height = kept.length > 100 ? tall : "";
    const [w, h] = this.size();
    // Anchors: local nodes left, each remote group a row on the right.
    const groups = new Map();
    for (const n of kept) if (n.group) groups.set(n.group, (groups.get(n.group) || 0) + n.weight);
    const order = [...groups.entries()].sort((a, b) => b[1] - a[1]).map((g) => g[0]);
    const next = new Map();
    for (const n of kept) {
      const old = this.nodes.get(n.key);
      const m = old ? Object.assign(old, n) : n;
      m.r = Math.min(16, 5 + 2 * Math.log2(1 + m.weight));
      // Columns: programs and local addresses, listeners, remote hosts.
      if (m.group) {
        m.ax = w * 0.78;
        m.ay = h * (order.indexOf(m.group) + 1) / (order.length + 1);
      } else {
        m.ax = w * (m.kind === "listener" ? 0.4 : 0.14);
        m.ay = h / 2;
      }
      if (m.x === undefined) {
        m.x = m.ax + (Math.random() - 0.5) * 40;
        m.y = m.ay + (Math.random() - 0.5) * 40;
      }
      next.set(m.key, m);
    }
    const changed = next.size !== this.nodes.size || shown.length !== this.edges.length ||
        [...next.keys()].some((k) => !this.nodes.has(k));
    this.nodes = next;
    this.edges = shown.map((e) => Object.assign({}, e));
    this.narrow = w < 600;  // labels under the nodes, not beside them
    const remotes = kept.filter((n) => n.kind === "remote").sort((a, b) => b.weight - a.weight);
    this.named = new Set(kept.length <= kLabels ? kept.map((n) => n.key)
        : kept.filter((n) => n.kind !== "remote").concat(remotes.slice(0, kLabels / 2)).map((n) => n.key));
    this.crowded = shown.length > kLabels;

    this.render();
    this.renderBeyond(beyond, nodes, nodes.size - kept.length);
    this.simulation.nodes([...next.values()]);
    this.simulation.force("link").links(this.edges);
    this.simulation.alpha(changed ? 0.8 : 0.15).restart();
  };

  Graph.prototype.render = function () {
    const alive = new Set();
    for (const e of this.edges) {
      const id = "E" + e.key;
      alive.add(id);
      let d = this.drawn.get(id);
      if (!d) {
        d = { line: svg("line", { "class": "edge" }), label: svg("text", { "class": "edge-label" }),
              title: svg("title") };
        d.line.append(d.title);
        this.edgeLayer.append(d.line, d.label);
        this.drawn.set(id, d);
      }
      d.line.setAttribute("class", "edge" + (e.owns ? " owns" : ""));
      d.line.dataset.source = e.source;
      d.line.dataset.target = e.target;
      d.line.dataset.states = e.owns ? "" : statesText(e.states);
      if (!e.owns) {
        d.line.setAttribute("stroke", kStateColors[mainState(e.states)] || "#718096");
        d.line.setAttribute("stroke-width", String(1 + Math.min(6, Math.log2(e.total))));
        d.label.textContent = this.crowded && e.total === 1 ? "" : String(e.total);
        d.title.textContent = e.transport + ": " + statesText(e.states);
      } else {
        d.label.textContent = "";
        d.title.textContent = "holds the listening socket";
      }
      d.edge = e;
    }
    for (const n of this.nodes.values()) {
      const id = "N" + n.key;
      alive.add(id);
      let d = this.drawn.get(id);
      if (!d || d.kind !== n.kind) {
        if (d) d.g.remove();
        const g = svg("g", { "class": "node " + n.kind });
        const shape = n.kind === "listener" ? svg("rect") : svg("circle");
        const title = svg("title");
        const label = svg("text", { "dx": "0", "dy": "0" });
        shape.append(title);
        g.append(shape, label);
        this.nodeLayer.append(g);
        d = { g, shape, title, label, kind: n.kind };
        this.drawn.set(id, d);
      }
      d.g.dataset.key = n.key;
      const fill = n.kind === "remote" ? colorOf(n.group)
          : n.kind === "listener" ? "#2b6cb0" : n.kind === "process" ? "#4a5568" : "#a0aec0";
      d.shape.setAttribute("fill", fill);
      if (n.kind === "listener") {
        d.shape.setAttribute("width", String(2 * n.r));
        d.shape.setAttribute("height", String(2 * n.r));
        d.shape.setAttribute("rx", "3");
      } else {
        d.shape.setAttribute("r", String(n.r));
      }
      d.label.textContent = this.named.has(n.key) ? n.label : "";
      d.label.setAttribute("text-anchor", this.narrow || n.kind === "listener" ? "middle"
          : n.group ? "start" : "end");
      d.title.textContent = (n.group ? n.group + ": " : "") + n.label + " (" + n.weight +
          " connection" + (n.weight === 1 ? "" : "s") + ")";
      d.node = n;
    }
    for (const [id, d] of this.drawn) {
      if (alive.has(id)) continue;
      (d.g || d.line).remove();
      if (d.label && !d.g) d.label.remove();
      this.drawn.delete(id);
    }
    this.groupLabels = new Map();
    for (const n of this.nodes.values()) {
      if (!n.group || this.groupLabels.has(n.group)) continue;
      const t = svg("text", { "class": "group-label" });
      t.style.fill = colorOf(n.group);  // over the stylesheet's text colour
      t.textContent = n.group;
      this.groupLabels.set(n.group, t);
    }
    this.groupLayer.replaceChildren(...this.groupLabels.values());
    this.renderLegend();
  };

  Graph.prototype.tick = function () {
    const [w, h] = [this.svg.viewBox.baseVal.width || 800, this.svg.viewBox.baseVal.height || 460];
    for (const n of this.nodes.values()) {
      n.x = Math.max(n.r + 2, Math.min(w - n.r - 2, n.x));
      n.y = Math.max(n.r + 2, Math.min(h - n.r - 2, n.y));
    }
    for (const d of this.drawn.values()) {
      if (d.edge) {
        const s = d.edge.source, t = d.edge.target;
        if (typeof s !== "object" || typeof t !== "object") continue;
        d.line.setAttribute("x1", s.x.toFixed(1));
        d.line.setAttribute("y1", s.y.toFixed(1));
        d.line.setAttribute("x2", t.x.toFixed(1));
        d.line.setAttribute("y2", t.y.toFixed(1));
        d.label.setAttribute("x", ((s.x + t.x) / 2).toFixed(1));
        d.label.setAttribute("y", ((s.y + t.y) / 2 - 3).toFixed(1));
      } else if (d.node) {
        const n = d.node;
        if (n.kind === "listener") {
          d.shape.setAttribute("x", (n.x - n.r).toFixed(1));
          d.shape.setAttribute("y", (n.y - n.r).toFixed(1));
        } else {
          d.shape.setAttribute("cx", n.x.toFixed(1));
          d.shape.setAttribute("cy", n.y.toFixed(1));
        }
        const below = this.narrow || n.kind === "listener";
        const side = below ? 0 : n.group ? 1 : -1;
        d.label.setAttribute("x", (n.x + side * (n.r + 4)).toFixed(1));
        d.label.setAttribute("y", (below ? n.y + n.r + 12 : n.y + 4).toFixed(1));
      }
    }
    // Each group's name above its topmost host.
    const top = new Map();
    for (const n of this.nodes.values()) {
      if (!n.group) continue;
      const t = top.get(n.group);
      if (!t || n.y < t.y) top.set(n.group, n);
    }
    for (const [group, n] of top) {
      const label = this.groupLabels.get(group);
      label.setAttribute("x", (n.x - n.r).toFixed(1));
      label.setAttribute("y", (n.y - n.r - 6).toFixed(1));
    }
  };

  Graph.prototype.renderLegend = function () {
    const items = [["#2b6cb0", "listener (port/transport service)"],
                   ["#4a5568", "program[pid]"], ["#a0aec0", "local address (owner not looked up)"]];
    const states = new Set();
    for (const e of this.edges) for (const s of Object.keys(e.states)) states.add(s);
    for (const s of states) items.push([kStateColors[s] || "#718096", "line: mostly " + s]);
    this.legend.replaceChildren(...items.map(([color, text]) => {
      const span = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = color;
      span.append(swatch, text);
      return span;
    }));
  };

  Graph.prototype.renderBeyond = function (edges, nodes, hidden) {
    const box = this.beyond;
    box.hidden = hidden === 0;
    if (hidden === 0) return;
    edges.sort((a, b) => b.total - a.total);
    box.querySelector("#beyond-note").textContent = hidden + " more nodes than the graph's " +
        kMaxNodes + ": their " + edges.length + " pairs" +
        (edges.length > kBeyondRows ? " (the busiest " + kBeyondRows + " here)" : "") + ":";
    const rows = edges.slice(0, kBeyondRows).map((e) => {
      const tr = document.createElement("tr");
      const a = nodes.get(e.source), b = nodes.get(e.target);
      for (const text of [a.label, b.label, b.group || "-",
                          e.owns ? "holds the listener" : statesText(e.states)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    });
    box.querySelector("tbody").replaceChildren(...rows);
  };

  return { Graph, build, endpointText, statesText };
})();
