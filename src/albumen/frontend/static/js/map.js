// The map: where the photos were taken. The server counts them in cells of the part of the world
// in view (GET /api/v1/map), so a million photos cost what a hundred do; each cluster shows its
// newest photo and its count, and opens its photos as a grid beside the map. The world under
// them ships with the app (Natural Earth's countries from world-atlas), so the map works
// offline; an install that names an online tile server draws its tiles instead.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { feature } from "/vendor/topojson/index.js";
import { api, thumbUrl } from "./api.js";
import { h, toast } from "./dom.js";
import { pagedGrid } from "./lists.js";

const COARSE = "/vendor/world-atlas/countries-110m.json";
const FINE = "/vendor/world-atlas/countries-50m.json"; // from zoom 4 on
const FINE_FROM = 4;
const MARKER = 60; // pixels

const atlas = new Map(); // url -> GeoJSON, fetched once per page load
function countries(url) {
  if (!atlas.has(url)) {
    atlas.set(
      url,
      fetch(url)
        .then((answer) => {
          if (!answer.ok) throw new Error(`the world map did not load (${answer.status})`);
          return answer.json();
        })
        .then((topology) => flat(feature(topology, topology.objects.countries))),
    );
  }
  return atlas.get(url);
}

/**
 * A ring that crosses the antimeridian, made continuous (Chukotka goes on east of 180° rather
 * than a stripe across the world to -180°). A ring around a pole (Antarctica) stays as it is.
 */
function unwrap(ring) {
  let shift = 0;
  const out = [ring[0]];
  for (let i = 1; i < ring.length; i++) {
    const step = ring[i][0] - ring[i - 1][0];
    if (step > 180) shift -= 360;
    else if (step < -180) shift += 360;
    out.push([ring[i][0] + shift, ring[i][1]]);
  }
  return shift === 0 ? out : ring;
}

function flat(world) {
  for (const country of world.features) {
    const geometry = country.geometry;
    if (!geometry) continue;
    if (geometry.type === "Polygon") geometry.coordinates = geometry.coordinates.map(unwrap);
    else if (geometry.type === "MultiPolygon")
      geometry.coordinates = geometry.coordinates.map((polygon) => polygon.map(unwrap));
  }
  return world;
}

/** The offline world: land and borders, drawn on the map's canvas. */
function offlineWorld(map) {
  const style = { color: "#9aa0a6", weight: 0.7, fillColor: "#f2efe9", fillOpacity: 1, interactive: false };
  let layer = null;
  let drawn = "";
  const draw = async () => {
    const url = map.getZoom() >= FINE_FROM ? FINE : COARSE;
    if (url === drawn || (drawn === FINE && url === COARSE)) return;
    drawn = url;
    try {
      const world = await countries(url);
      const next = L.geoJSON(world, { style, interactive: false }).addTo(map);
      next.bringToBack();
      if (layer) layer.remove();
      layer = next;
    } catch (err) {
      toast(err.message, "error");
    }
  };
  map.on("zoomend", draw);
  return draw();
}

async function basemap(map) {
  let tiles = null;
  try {
    tiles = await api("/api/v1/map/tiles");
  } catch {
    /* a share visitor, or no answer: the offline world */
  }
  if (tiles?.url) {
    L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: 19 }).addTo(map);
    return;
  }
  map.attributionControl.addAttribution("Natural Earth");
  await offlineWorld(map);
}

function bboxOf(bounds) {
  const south = Math.max(-90, bounds.getSouth());
  const north = Math.min(90, bounds.getNorth());
  const west = Math.max(-180, bounds.getWest());
  const east = Math.min(180, bounds.getEast());
  return [south, west, north, east].map((v) => v.toFixed(6)).join(",");
}

function countText(n) {
  return n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

function clusterIcon(cluster, share) {
  const img = h("img", { src: thumbUrl(cluster.photo_id, "thumb", share), alt: "", draggable: "false" });
  const body = h("span", { class: "map-pin" }, img, h("span", { class: "map-count" }, countText(cluster.count)));
  return L.divIcon({
    html: body,
    className: "map-marker",
    iconSize: [MARKER, MARKER],
    iconAnchor: [MARKER / 2, MARKER / 2],
  });
}

/**
 * A map of photos in `container`. `clusters(bbox, zoom)` answers the API's map; `photosIn(bbox)`
 * gives the loader of a cluster's photos (cursor -> page). Returns a cleanup function.
 */
export function photoMap(
  container,
  { clusters, photosIn, share = null, label = "Map of your photos", openPhoto = null },
) {
  const canvas = h("div", { class: "map-canvas", role: "region", "aria-label": label });
  const status = h("p", { class: "map-status", role: "status" });
  const panel = h("aside", { class: "map-panel", "aria-label": "Photos here", hidden: "" });
  container.append(h("div", { class: "map-frame" }, canvas, status), panel);
  const map = L.map(canvas, {
    preferCanvas: true,
    minZoom: 1,
    maxZoom: 18,
    worldCopyJump: false,
    maxBounds: [
      [-89, -200],
      [89, 200],
    ],
    maxBoundsViscosity: 1,
    zoomControl: true,
  });
  map.attributionControl.setPrefix(false);
  const pins = L.layerGroup().addTo(map);
  let asked = 0;
  let grid = null;

  const closePanel = () => {
    panel.hidden = true;
    grid?.cleanup();
    grid = null;
    panel.replaceChildren();
    map.invalidateSize();
  };

  const openCluster = (cluster) => {
    closePanel();
    const photos = cluster.count === 1 ? "1 photo" : `${cluster.count.toLocaleString()} photos`;
    const close = h("button", { type: "button", class: "text", onclick: closePanel }, "Close");
    const body = h("div", { class: "map-panel-grid" });
    panel.append(h("div", { class: "map-panel-head" }, h("h2", {}, photos), close), body);
    panel.hidden = false;
    map.invalidateSize();
    if (!map.getBounds().contains([cluster.lat, cluster.lon])) map.panTo([cluster.lat, cluster.lon]);
    const open = openPhoto ? (photo) => openPhoto(photo, grid) : null;
    grid = pagedGrid(body, photosIn(cluster.bbox), { label: `Photos here: ${photos}`, share, open }).grid;
    close.focus();
  };

  const refresh = async () => {
    const run = ++asked;
    let answer;
    try {
      answer = await clusters(bboxOf(map.getBounds()), map.getZoom());
    } catch (err) {
      if (run === asked) toast(err.message, "error");
      return;
    }
    if (run !== asked || !canvas.isConnected) return;
    pins.clearLayers();
    for (const cluster of answer.clusters) pin(cluster);
    const n = answer.total;
    status.textContent = n
      ? `${n.toLocaleString()} ${n === 1 ? "photo" : "photos"} in view`
      : "No photos in this part of the world.";
  };

  const pin = (cluster) => {
    const marker = L.marker([cluster.lat, cluster.lon], {
      icon: clusterIcon(cluster, share),
      keyboard: true,
      riseOnHover: true,
    });
    marker.on("click", () => openCluster(cluster));
    marker.addTo(pins);
    const element = marker.getElement();
    const name = cluster.count === 1 ? "1 photo" : `${cluster.count} photos`;
    element.setAttribute("aria-label", `${name} here: open`);
    element.dataset.count = String(cluster.count);
    element.dataset.bbox = cluster.bbox;
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openCluster(cluster);
      }
    });
  };

  /** The first view: where the photos are (asked of the whole world), not the whole world. */
  const start = async () => {
    let world;
    try {
      world = await clusters("-90,-180,90,180", 2);
    } catch (err) {
      toast(err.message, "error");
      return;
    }
    if (!canvas.isConnected) return;
    if (world.total === 0) {
      status.textContent = "No photo has a location yet: photos taken with a phone's location on appear here.";
      return;
    }
    const bounds = L.latLngBounds(world.clusters.map((c) => [c.lat, c.lon]));
    map.fitBounds(bounds.pad(0.2), { maxZoom: 10, animate: false });
    map.on("moveend", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    });
    refresh();
  };

  let timer = 0;
  map.setView([25, 10], 2);
  start();
  const observer = new ResizeObserver(() => map.invalidateSize());
  observer.observe(canvas);
  basemap(map).catch(() => {});
  return () => {
    clearTimeout(timer);
    observer.disconnect();
    closePanel();
    map.remove();
  };
}

export async function mapPage(main, params) {
  const albumId = params.get("album");
  const album = albumId ? await api(`/api/v1/albums/${albumId}`) : null;
  const title = album ? `Map of ${album.name}` : "Map";
  const head = h("div", { class: "page-head" }, h("h1", {}, title));
  if (album) head.append(h("a", { class: "button", href: `/albums/${album.id}` }, "Back to the album"));
  const body = h("div", { class: "map-page" });
  main.append(head, body);
  const scope = album ? `&album=${encodeURIComponent(album.id)}` : "";
  return photoMap(body, {
    label: album ? `Map of the album ${album.name}` : "Map of your photos",
    clusters: (bbox, zoom) => api(`/api/v1/map?bbox=${bbox}&zoom=${zoom}${scope}`),
    photosIn: (bbox) => (cursor) => {
      const page = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}&bbox=${bbox}`;
      return album
        ? api(`/api/v1/albums/${album.id}/photos?include_sub=true&${page}`)
        : api(`/api/v1/search?archived=false&${page}`);
    },
  });
}
