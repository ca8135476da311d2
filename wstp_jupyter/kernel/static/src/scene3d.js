// The front end of wstp_jupyter.kernel._scene3d: draws one 3D scene with three.js and turns it
// with the mouse. An anywidget module: render({model, el}) builds the view, returns its cleanup.
// Bundled with three.js into ../scene3d.js by scripts/build-scene3d.sh (no CDN, works offline).
import {
  AmbientLight, BoxGeometry, BufferAttribute, BufferGeometry, Color, ConeGeometry,
  CylinderGeometry, DirectionalLight, DoubleSide, EdgesGeometry,
  Group, LineBasicMaterial, LineSegments, Mesh, MeshLambertMaterial, PerspectiveCamera,
  PointLight, Points, PointsMaterial, Quaternion, Scene, SphereGeometry, Spherical, Sprite,
  SpriteMaterial, CanvasTexture, Vector3, WebGLRenderer,
} from "three";

// Buffers arrive as DataViews over the message; copy them so typed arrays are aligned.
function floats(view) {
  if (!view || !view.byteLength) return new Float32Array(0);
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}
function uints(view) {
  if (!view || !view.byteLength) return new Uint32Array(0);
  return new Uint32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function material(rgb, opacity, vertexColors) {
  const m = new MeshLambertMaterial({ side: DoubleSide, vertexColors: !!vertexColors });
  if (rgb) m.color = new Color(rgb[0], rgb[1], rgb[2]);
  if (opacity < 1) { m.transparent = true; m.opacity = opacity; m.depthWrite = false; }
  return m;
}

function surface(model, group) {
  const positions = floats(model.get("positions"));
  if (positions.length) {
    const g = new BufferGeometry();
    g.setAttribute("position", new BufferAttribute(positions, 3));
    g.setAttribute("color", new BufferAttribute(floats(model.get("colors")), 3));
    g.setIndex(new BufferAttribute(uints(model.get("indices")), 1));
    g.setAttribute("normal", new BufferAttribute(floats(model.get("normals")), 3));
    group.add(new Mesh(g, material(null, 1, true)));
  }
  const alpha = floats(model.get("alpha_positions"));
  if (alpha.length) {
    const g = new BufferGeometry();
    g.setAttribute("position", new BufferAttribute(alpha, 3));
    g.setAttribute("color", new BufferAttribute(floats(model.get("alpha_colors")), 3));
    g.computeVertexNormals();
    group.add(new Mesh(g, material(null, model.get("meta").alpha, true)));
  }
}

function strokes(model, group) {
  const lines = floats(model.get("lines"));
  if (lines.length) {
    const g = new BufferGeometry();
    g.setAttribute("position", new BufferAttribute(lines, 3));
    g.setAttribute("color", new BufferAttribute(floats(model.get("line_colors")), 3));
    group.add(new LineSegments(g, new LineBasicMaterial({ vertexColors: true })));
  }
  const points = floats(model.get("points"));
  if (points.length) {
    const g = new BufferGeometry();
    g.setAttribute("position", new BufferAttribute(points, 3));
    g.setAttribute("color", new BufferAttribute(floats(model.get("point_colors")), 3));
    const m = new PointsMaterial({ vertexColors: true, size: 5, sizeAttenuation: false });
    group.add(new Points(g, m));
  }
}

// A solid along the segment a -> b (three's cylinders and cones stand along +y).
function along(geometry, a, b, rgb, opacity) {
  const from = new Vector3(a[0], a[1], a[2]);
  const to = new Vector3(b[0], b[1], b[2]);
  const axis = to.clone().sub(from);
  const mesh = new Mesh(geometry(axis.length()), material(rgb, opacity));
  mesh.position.copy(from.clone().add(to).multiplyScalar(0.5));
  mesh.quaternion.copy(new Quaternion().setFromUnitVectors(new Vector3(0, 1, 0),
    axis.clone().normalize()));
  return mesh;
}

function solids(meta, group) {
  for (const [x, y, z, r, R, G, B, o] of meta.spheres || []) {
    const m = new Mesh(new SphereGeometry(r, 32, 16), material([R, G, B], o));
    m.position.set(x, y, z);
    group.add(m);
  }
  for (const [x0, y0, z0, x1, y1, z1, R, G, B, o] of meta.cuboids || []) {
    const m = new Mesh(new BoxGeometry(Math.abs(x1 - x0), Math.abs(y1 - y0), Math.abs(z1 - z0)),
      material([R, G, B], o));
    m.position.set((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2);
    group.add(m);
  }
  for (const [x0, y0, z0, x1, y1, z1, r, R, G, B, o] of meta.cylinders || []) {
    group.add(along((h) => new CylinderGeometry(r, r, h, 32), [x0, y0, z0], [x1, y1, z1],
      [R, G, B], o));
  }
  for (const [x0, y0, z0, x1, y1, z1, r, R, G, B, o] of meta.cones || []) {
    group.add(along((h) => new ConeGeometry(r, h, 32), [x0, y0, z0], [x1, y1, z1], [R, G, B], o));
  }
}

// A text label that always faces the camera, about `height` scene units tall.
function label(text, at, height) {
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const font = "32px sans-serif";
  ctx.font = font;
  canvas.width = Math.ceil(ctx.measureText(text).width) + 8;
  canvas.height = 40;
  ctx.font = font;
  ctx.fillStyle = "#333333";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(text, canvas.width / 2, canvas.height / 2);
  const sprite = new Sprite(new SpriteMaterial({ map: new CanvasTexture(canvas),
    depthTest: false, transparent: true }));
  sprite.scale.set(height * canvas.width / canvas.height, height, 1);
  sprite.position.copy(at);
  return sprite;
}

// Ticks and labels on one box edge per axis: x and y on the bottom edges nearest the initial
// view point, z on the vertical edge at (xmin, ymin), as Wolfram's default view shows them.
function axes(meta, lo, hi, size, group) {
  const spec = meta.axes || {};
  const has = spec.has || [false, false, false];
  const points = [];
  const tick = size * 0.02;
  const s = Math.SQRT1_2;
  const edges = [
    { at: (t) => new Vector3(t, lo.y, lo.z), out: new Vector3(0, -1, 0) },
    { at: (t) => new Vector3(hi.x, t, lo.z), out: new Vector3(1, 0, 0) },
    { at: (t) => new Vector3(lo.x, lo.y, t), out: new Vector3(-s, -s, 0) },
  ];
  for (let axis = 0; axis < 3; axis++) {
    if (!has[axis]) continue;
    const { at, out } = edges[axis];
    const inside = (t) => t >= [lo.x, lo.y, lo.z][axis] - 1e-9 * size
      && t <= [hi.x, hi.y, hi.z][axis] + 1e-9 * size;
    for (const [t, text] of (spec.ticks || [])[axis] || []) {
      if (!inside(t)) continue;
      const p = at(t);
      points.push(p, p.clone().addScaledVector(out, tick));
      if (text) group.add(label(text, p.clone().addScaledVector(out, tick * 3.5), size * 0.055));
    }
    for (const t of (spec.minor || [])[axis] || []) {
      if (!inside(t)) continue;
      const p = at(t);
      points.push(p, p.clone().addScaledVector(out, tick * 0.5));
    }
  }
  if (points.length) {
    const g = new BufferGeometry().setFromPoints(points);
    group.add(new LineSegments(g, new LineBasicMaterial({ color: 0x555555 })));
  }
}

function extentBox(meta) {
  const e = meta.extent || {};
  const lo = new Vector3(e.xmin ?? 0, e.ymin ?? 0, e.zmin ?? 0);
  const hi = new Vector3(e.xmax ?? 1, e.ymax ?? 1, e.zmax ?? 1);
  return [lo, hi];
}

function render({ model, el }) {
  const started = performance.now();
  const meta = model.get("meta");
  const width = model.get("width");
  const height = model.get("height");
  const root = document.createElement("div");
  root.className = "wstp-scene3d";
  el.appendChild(root);
  let renderer;
  try {
    renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  } catch (err) {
    root.textContent = "3D view unavailable (no WebGL): " + err;
    return () => root.remove();
  }
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  renderer.setSize(width, height);
  root.appendChild(renderer.domElement);

  const scene = new Scene();
  const bg = meta.background || [1, 1, 1];
  scene.background = new Color(bg[0], bg[1], bg[2]);
  const group = new Group();
  surface(model, group);
  strokes(model, group);
  solids(meta, group);
  const [lo, hi] = extentBox(meta);
  const center = lo.clone().add(hi).multiplyScalar(0.5);
  const size = Math.max(hi.x - lo.x, hi.y - lo.y, hi.z - lo.z, 1e-9);
  if (meta.boxed) {
    const box = new BoxGeometry(hi.x - lo.x, hi.y - lo.y, hi.z - lo.z);
    const edges = new LineSegments(new EdgesGeometry(box),
      new LineBasicMaterial({ color: 0x555555 }));
    edges.position.copy(center);
    group.add(edges);
  }
  axes(meta, lo, hi, size, group);
  scene.add(group);

  // Wolfram's camera: view point relative to the box centre in units of its longest side,
  // z up, an angle that fits the box.
  const vp = meta.viewpoint || [1.3, -2.4, 2];
  const home = new Vector3(vp[0], vp[1], vp[2]).multiplyScalar(size);
  // The angle that fits the box (with its tick labels) into the picture, as Wolfram's does.
  const radius = hi.clone().sub(lo).length() / 2;
  const fov = (2 * Math.atan((radius * 1.15) / home.length()) * 180) / Math.PI;
  const camera = new PerspectiveCamera(fov, width / height, size * 0.01, size * 100);
  camera.up.set(0, 0, 1);
  // Lights fixed to the camera (Wolfram's default lighting turns with the view).
  const lights = meta.lights || {};
  const [ar, ag, ab] = lights.ambient || [0.3, 0.3, 0.3];
  scene.add(new AmbientLight(new Color(ar, ag, ab), Math.PI));
  for (const [[x, y, z], [r, g, b]] of lights.directional || []) {
    const light = new DirectionalLight(new Color(r, g, b), Math.PI);
    light.position.set(x, y, z);
    light.target.position.set(0, 0, 0);
    camera.add(light);
    camera.add(light.target);
  }
  for (const [[x, y, z], [r, g, b]] of lights.point || []) {
    const light = new PointLight(new Color(r, g, b), Math.PI, 0, 0);
    light.position.set(x, y, z);
    scene.add(light);
  }
  scene.add(camera);

  // The camera orbits the centre; Spherical measures its polar angle from +y, and the view's
  // up is +z, so orbit coordinates are the scene's turned a quarter about x.
  const toOrbit = (v) => new Vector3(v.x, v.z, -v.y);
  const fromOrbit = (v) => new Vector3(v.x, -v.z, v.y);
  const orbit = new Spherical().setFromVector3(toOrbit(home));
  const initial = orbit.clone();
  const place = () => {
    camera.position.copy(fromOrbit(new Vector3().setFromSpherical(orbit)).add(center));
    camera.lookAt(center);
  };

  let frame = 0;
  const draw = () => {
    frame = 0;
    place();
    renderer.render(scene, camera);
    el.dataset.frames = String(Number(el.dataset.frames || 0) + 1);
  };
  const redraw = () => { if (!frame) frame = requestAnimationFrame(draw); };

  let drag = null;
  const canvas = renderer.domElement;
  const down = (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, theta: orbit.theta, phi: orbit.phi };
    canvas.setPointerCapture(ev.pointerId);
    canvas.style.cursor = "grabbing";
  };
  const move = (ev) => {
    if (!drag) return;
    orbit.theta = drag.theta - (ev.clientX - drag.x) * 0.01;
    orbit.phi = Math.min(Math.PI - 1e-3, Math.max(1e-3, drag.phi - (ev.clientY - drag.y) * 0.01));
    redraw();
  };
  const up = (ev) => {
    drag = null;
    canvas.style.cursor = "";
    if (canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
  };
  const wheel = (ev) => {
    ev.preventDefault();
    orbit.radius = Math.min(size * 50, Math.max(size * 0.2, orbit.radius * Math.exp(ev.deltaY * 0.001)));
    redraw();
  };
  const reset = () => { orbit.copy(initial); redraw(); };
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("wheel", wheel, { passive: false });
  canvas.addEventListener("dblclick", reset);

  draw();
  el.dataset.readyMs = (performance.now() - started).toFixed(1);
  el.dataset.ready = "1";
  return () => {
    if (frame) cancelAnimationFrame(frame);
    renderer.dispose();
    root.remove();
  };
}

export default { render };
