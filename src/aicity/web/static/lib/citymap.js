// The demo city's districts as inline SVG, drawn from the bundled GeoJSON (no tiles, no map
// library): an equirectangular projection of lon/lat into the SVG box (longitude scaled by
// the cosine of the mid latitude so shapes keep their proportions), a label per district, a
// hover tooltip with the district's open-event count, and events as dots.
//
// Every name from the server reaches the SVG as text nodes only.

import { h, svg } from "./dom.js";

const WIDTH = 640;
const PAD = 14;
const DOT_R = 8;

/** A polygon's rings, or a multipolygon's rings flattened: [[[lon, lat], …], …]. */
function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

/** The SVG box and the point function for these features. */
export function projection(features) {
  const points = features.flatMap((f) => rings(f.geometry).flat());
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const scale = (WIDTH - 2 * PAD) / Math.max((maxLon - minLon) * k, 1e-9);
  const round = (v) => Math.round(v * 10) / 10;
  return {
    width: WIDTH,
    height: Math.ceil((maxLat - minLat) * scale + 2 * PAD),
    point: (lon, lat) => [round(PAD + (lon - minLon) * k * scale), round(PAD + (maxLat - lat) * scale)],
  };
}

function pathData(geometry, point) {
  return rings(geometry)
    .map((ring) => ring.map(([lon, lat], i) => `${i ? "L" : "M"}${point(lon, lat).join(" ")}`).join("") + "Z")
    .join("");
}

/** The mean of the outer ring's vertices (the demo districts are convex enough). */
function labelPoint(geometry) {
  const outer = rings(geometry)[0] || [];
  const pts = outer.length > 1 ? outer.slice(0, -1) : outer;
  const n = pts.length || 1;
  return [pts.reduce((s, p) => s + p[0], 0) / n, pts.reduce((s, p) => s + p[1], 0) / n];
}

export class CityMap {
  /** onEvent(id): a dot was clicked; onDistrict(id): a district was clicked. */
  constructor({ onEvent, onDistrict, dotClass, dotTitle }) {
    this.onEvent = onEvent;
    this.onDistrict = onDistrict;
    this.dotClass = dotClass;
    this.dotTitle = dotTitle;
    this.proj = null;
    this.districts = new Map(); // id → {name, path, title}
    this.counts = {};
    this.hovered = null;
    this.selected = null;
    this.svg = svg("svg", { class: "citymap-svg", role: "img", "aria-label": "城市辖区地图 City districts map" });
    this.shapes = svg("g", { class: "citymap-districts" });
    this.labels = svg("g", { class: "citymap-labels", "aria-hidden": "true" });
    this.dots = svg("g", { class: "citymap-dots" });
    this.markers = svg("g", { class: "citymap-markers" });
    this.svg.append(this.shapes, this.labels, this.markers, this.dots);
    this.tooltip = h("div", { class: "citymap-tooltip", testid: "map-tooltip", role: "status", hidden: true });
    this.el = h("div", { class: "citymap", testid: "event-map" }, this.svg, this.tooltip);
  }

  setDistricts(geojson) {
    const features = Array.isArray(geojson?.features) ? geojson.features.filter((f) => rings(f.geometry).length) : [];
    this.shapes.replaceChildren();
    this.labels.replaceChildren();
    this.districts.clear();
    if (!features.length) return;
    this.proj = projection(features);
    this.svg.setAttribute("viewBox", `0 0 ${this.proj.width} ${this.proj.height}`);
    for (const f of features) {
      const id = String(f.properties?.id ?? f.id ?? "");
      const name = String(f.properties?.name || id);
      const title = svg("title", { text: name });
      const path = svg("path", {
        class: "citymap-district", testid: "map-district", "data-district": id, d: pathData(f.geometry, this.proj.point),
        onmouseenter: (e) => this.hover(id, e), onmousemove: (e) => this.place(e), onmouseleave: () => this.hover(null),
        onclick: () => this.onDistrict?.(id),
      }, title);
      this.shapes.append(path);
      const [x, y] = this.proj.point(...labelPoint(f.geometry));
      this.labels.append(svg("text", { class: "citymap-label", testid: "map-label", "data-district": id, x, y, text: name }));
      this.districts.set(id, { name, path, title });
    }
    this.setCounts(this.counts);
  }

  /** {district id: open events}: shown on hover and in each polygon's <title>. */
  setCounts(counts) {
    this.counts = counts || {};
    for (const [id, d] of this.districts) {
      d.path.dataset.open = String(this.counts[id] || 0);
      d.title.textContent = this.countText(id);
    }
    if (this.hovered) this.tooltip.textContent = this.countText(this.hovered);
  }

  countText(id) {
    const d = this.districts.get(id);
    return `${d ? d.name : id} · 未办结 ${this.counts[id] || 0} 件 open`;
  }

  hover(id, e) {
    this.hovered = id;
    for (const [key, d] of this.districts) d.path.classList.toggle("is-hover", key === id);
    this.tooltip.hidden = !id;
    if (!id) return;
    this.tooltip.dataset.district = id;
    this.tooltip.textContent = this.countText(id);
    this.place(e);
  }

  place(e) {
    if (!e || this.tooltip.hidden) return;
    const box = this.el.getBoundingClientRect();
    this.tooltip.style.left = `${e.clientX - box.left + 12}px`;
    this.tooltip.style.top = `${e.clientY - box.top + 12}px`;
  }

  /** Events with coordinates become dots; the rest are not drawn. */
  setEvents(events) {
    this.dots.replaceChildren();
    if (!this.proj) return;
    for (const ev of events) {
      if (typeof ev.lat !== "number" || typeof ev.lon !== "number") continue;
      const [cx, cy] = this.proj.point(ev.lon, ev.lat);
      const open = () => this.onEvent?.(ev.id);
      this.dots.append(svg("circle", {
        class: `citymap-dot ${this.dotClass(ev)}`, testid: "map-dot", "data-id": ev.id, cx, cy, r: DOT_R,
        tabindex: "0", role: "button", "aria-label": this.dotTitle(ev),
        onclick: open, onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), open()),
      }, svg("title", { text: this.dotTitle(ev) })));
    }
    this.select(this.selected);
  }

  select(id) {
    this.selected = id;
    for (const dot of [...this.dots.children]) {
      const on = dot.dataset.id === id;
      dot.classList.toggle("is-selected", on);
      if (on) this.dots.append(dot); // on top of its neighbours
    }
  }

  /** Extra markers under the event dots (the dashboard's devices and alarms): each
   * {id, lat, lon, shape: "circle"|"square"|"ring", cls, title, testid, onClick}. Unlocated ones are skipped. */
  setMarkers(markers) {
    this.markers.replaceChildren();
    if (!this.proj) return;
    for (const m of markers) {
      if (typeof m.lat !== "number" || typeof m.lon !== "number") continue;
      const [cx, cy] = this.proj.point(m.lon, m.lat);
      const r = m.r || 5;
      const attrs = {
        class: `citymap-marker ${m.cls || ""}`, testid: m.testid || "map-marker", "data-id": m.id,
        "aria-label": m.title, role: m.onClick ? "button" : null, tabindex: m.onClick ? "0" : null,
        onclick: m.onClick || null,
        onkeydown: m.onClick ? (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), m.onClick()) : null,
      };
      const title = svg("title", { text: m.title });
      this.markers.append(m.shape === "square"
        ? svg("rect", { ...attrs, x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, rx: 1.5 }, title)
        : svg("circle", { ...attrs, cx, cy, r }, title));
    }
  }
}
