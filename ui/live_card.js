// One run under way, drawn by the browser from the panel's live feed (mnist_core/classroom/live_feed.py).
//
// The server writes each panel's runs to a small JSON file twice a second; every card on a page
// fetches it every two seconds (cards of one panel share one fetch) and redraws its words, bars,
// numbers and curves itself, so watching costs the server a file read per viewer, not a script run.
// The server is asked to redraw the page only when the panel's runs change stage (one starts,
// waits, stops or ends): the first card of a panel sends a "changed" trigger then. When the feed
// cannot be read (static serving off), the card says so once with a "feed_missing" trigger and
// the page falls back to redrawing the panel from the server every second.

const POLL_MS = 2000; // each fetch costs the server about 3.5 ms of CPU: thirty viewers, 5% of a core
const MISSING_AFTER = 3; // failed fetches in a row before the page is told to poll instead
const SVG = "http://www.w3.org/2000/svg";
const feeds = new Map(); // url -> { listeners, timer, failures }

function follow(url, listener) {
  let feed = feeds.get(url);
  if (!feed) {
    feed = { listeners: new Set(), failures: 0, timer: null };
    const tick = async () => {
      let content = null;
      try {
        const response = await fetch(url, { cache: "no-store" });
        if (response.ok) content = await response.json();
      } catch (error) {
        content = null; // the server restarting, or a network hiccup: counted like a missing file
      }
      feed.failures = content ? 0 : feed.failures + 1;
      feed.listeners.forEach((listener_) => listener_(content, feed.failures));
    };
    feed.timer = setInterval(tick, POLL_MS);
    feeds.set(url, feed);
    tick();
  }
  feed.listeners.add(listener);
  return () => {
    feed.listeners.delete(listener);
    if (!feed.listeners.size) {
      clearInterval(feed.timer);
      feeds.delete(url);
    }
  };
}

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function svgNode(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([name, value]) => element.setAttribute(name, String(value)));
  return element;
}

function signatureOf(runs) {
  return runs.map((run) => `${run.run_id}:${run.stage}`).sort().join(",");
}

function title(data, view) {
  const line = node("p", "title");
  line.append(node("strong", "", data.label), ` by ${data.who}: `, node("em", "", view.headline));
  return line;
}

function bar(fraction, text) {
  const box = node("div", "bar");
  box.append(node("div", "bar-text", text));
  const track = node("div", "track");
  const fill = node("div", "fill");
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  track.append(fill);
  box.append(track);
  return box;
}

function metrics(pairs) {
  const grid = node("div", "metrics");
  pairs.forEach(([label, value]) => {
    const cell = node("div", "metric");
    cell.dataset.testid = "liveMetric";
    cell.append(node("div", "metric-label", label));
    const shown = node("div", "metric-value", value);
    shown.dataset.testid = "liveMetricValue";
    cell.append(shown);
    grid.append(cell);
  });
  return grid;
}

// A small line chart: x from 0.5 to the run's epochs, y linear or log; series of [x, y] points.
function plot(caption, series, { epochs, low, high, log, target }) {
  const width = 420, height = 230, left = 46, right = 10, top = 26, bottom = 34;
  const chart = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: "plot", role: "img" });
  const y = (value) => {
    const [a, b, v] = log ? [Math.log10(low), Math.log10(high), Math.log10(value)] : [low, high, value];
    return top + (height - top - bottom) * (1 - (v - a) / (b - a || 1));
  };
  const x = (value) => left + (width - left - right) * ((value - 0) / Math.max(epochs, 1));
  const label = svgNode("text", { x: left, y: 16, class: "caption" });
  label.textContent = caption;
  chart.append(label);
  chart.append(svgNode("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }));
  chart.append(svgNode("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }));
  const every = Math.max(1, Math.ceil(epochs / 8));
  for (let epoch = 1; epoch <= epochs; epoch += every) {
    const tick = svgNode("text", { x: x(epoch), y: height - bottom + 16, class: "tick", "text-anchor": "middle" });
    tick.textContent = String(epoch);
    chart.append(tick);
  }
  const axisName = svgNode("text", { x: (left + width - right) / 2, y: height - 4, class: "tick", "text-anchor": "middle" });
  axisName.textContent = "epoch";
  chart.append(axisName);
  const ticks = log ? logTicks(low, high) : linearTicks(low, high);
  ticks.forEach((value) => {
    const tick = svgNode("text", { x: left - 6, y: y(value) + 4, class: "tick", "text-anchor": "end" });
    tick.textContent = String(+value.toPrecision(4));
    chart.append(tick);
  });
  if (target !== undefined && target >= low && target <= high) {
    chart.append(svgNode("line", { x1: left, y1: y(target), x2: width - right, y2: y(target), class: "target" }));
  }
  series.forEach(({ points, className, markers }) => {
    const shown = points.filter(([, value]) => (log ? value > 0 : true));
    if (!shown.length) return;
    const path = shown.map(([px, py], i) => `${i ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join("");
    chart.append(svgNode("path", { d: path, class: className }));
    if (markers) shown.forEach(([px, py]) => chart.append(svgNode("circle", { cx: x(px), cy: y(py), r: 3.5, class: className })));
  });
  return chart;
}

// Round ticks, three to six of them: 20, 40, 60, 80, 100 rather than 20.1, 60.1, 100.
function linearTicks(low, high) {
  const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50].find((s) => (high - low) / s <= 5) ?? 50;
  const ticks = [];
  for (let value = Math.ceil(low / step) * step; value <= high + 1e-9; value += step) ticks.push(value);
  return ticks;
}

function logTicks(low, high) {
  const ticks = [];
  for (let power = Math.floor(Math.log10(low)); power <= Math.ceil(Math.log10(high)); power += 1) {
    [1, 2, 5].forEach((m) => {
      const value = m * 10 ** power;
      if (value >= low && value <= high) ticks.push(value);
    });
  }
  return ticks.length ? ticks : [low, high];
}

// The accuracy axis: every point shown and the target, a little room below; null before any epoch ended.
function accuracyRange(history, target) {
  if (!history.length) return null;
  const lowest = Math.min(target, ...history.flatMap((h) => [h.train_acc, h.test_acc]));
  return [Math.max(0, lowest - Math.max((100 - lowest) * 0.05, 0.05)), 100];
}

function curves(chart, colour, target) {
  const history = chart.history;
  const box = node("div", "curves");
  box.style.setProperty("--run", colour);
  const range = accuracyRange(history, target);
  if (range) {
    box.append(plot("Accuracy (%)", [
      { points: history.map((h) => [h.epoch, h.train_acc]), className: "train", markers: true },
      { points: history.map((h) => [h.epoch, h.test_acc]), className: "test", markers: true },
    ], { epochs: chart.epochs, low: range[0], high: range[1], log: false, target }));
  } else {
    // During epoch 1 there is no accuracy yet: an empty chart fixed at the target read as a broken one.
    box.append(node("p", "waiting", "Accuracy (%): drawn after the first epoch's test pass."));
  }
  const losses = [...chart.losses.map(([, value]) => value), ...history.flatMap((h) => [h.train_loss, h.test_loss])]
    .filter((value) => value > 0);
  if (losses.length) {
    box.append(plot("Loss (log scale)", [
      { points: chart.losses, className: "batches" },
      { points: history.map((h) => [h.epoch, h.train_loss]), className: "train", markers: true },
      { points: history.map((h) => [h.epoch, h.test_loss]), className: "test", markers: true },
    ], { epochs: chart.epochs, low: Math.min(...losses) / 1.2, high: Math.max(...losses) * 1.2, log: true }));
  }
  box.append(node("p", "legend",
    "solid, ●: test · dashed, ○: train · thin: each batch's loss · dotted: the target"));
  return box;
}

function draw(root, data, view) {
  const parts = [title(data, view)];
  if (view.info) parts.push(node("div", "info", view.info));
  view.bars.forEach(({ fraction, text }) => parts.push(bar(fraction, text)));
  if (view.metrics.length) parts.push(metrics(view.metrics));
  if (view.chart) parts.push(curves(view.chart, data.colour, data.target));
  root.replaceChildren(...parts);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".live-card");
  if (!root) {
    root = node("div", "live-card");
    parentElement.append(root);
  }
  root.classList.toggle("big", Boolean(data.presenting));
  draw(root, data, data.view);
  if (!data.feed) return undefined; // the server redraws this card (no feed to read)
  let asked = null; // the signature last asked about (an empty panel is "", a change too)
  return follow(data.feed, (content, failures) => {
    if (!content) {
      if (failures === MISSING_AFTER) setTriggerValue("feed_missing", true);
      return;
    }
    const mine = content.runs.find((run) => run.run_id === data.view.run_id);
    if (mine) draw(root, data, mine);
    // Only a feed written after the server drew this card can tell it something new (the feed lags by up
    // to half a second: an older one may not list a run the page already shows).
    const now = signatureOf(content.runs);
    if (data.watch && content.written > data.drawn && now !== data.signature && now !== asked) {
      asked = now; // once per change: the page's redraw mounts this card again with the new signature
      setTriggerValue("changed", now);
    }
  });
}

export { accuracyRange, linearTicks, signatureOf }; // for tests/test_live_card_js.py (Node), beside the card itself
