// The job page's 3D viewer: each <figure class="viewer" data-glb="URL"> gets the GLB drawn
// with three.js (vendor/three, served by the gateway; loaded only when such a figure
// exists), orbit, zoom and pan with the mouse, drawn again only when the view changes.
// The figure's fallback (the job's preview image and the model's download) stays when
// there is no WebGL or the model does not load; the figure then says why in
// data-viewer="no-webgl" or "failed" (and data-viewer-error). Once drawn it says
// data-viewer="ready", data-loaded="1" and data-meshes (the model's mesh count).
//
// dashboard.js swaps the page's live part (which holds the figure) while a job runs: a
// figure that appears later is started when it is added, one that is removed is freed.

const VENDOR = "/dashboard/static/vendor/three/";
const running = new Map(); // figure -> its free() function

function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch (error) {
    return false;
  }
}

function giveUp(figure, state, error) {
  figure.setAttribute("data-viewer", state);
  if (error) {
    figure.setAttribute("data-viewer-error", String(error.message || error));
  }
}

// The camera looks at the model from above one corner, as the preview does, from as close
// as keeps each corner of its box in the frame (at the canvas's proportions).
function fit(THREE, camera, controls, box) {
  const centre = box.getCenter(new THREE.Vector3());
  const toward = new THREE.Vector3(1, 1.3, 1.4).normalize(); // from the model to the camera
  const right = new THREE.Vector3(0, 1, 0).cross(toward).normalize();
  const up = toward.clone().cross(right);
  const tanV = Math.tan(THREE.MathUtils.degToRad(camera.fov / 2));
  const tanH = tanV * camera.aspect;
  let distance = 0.01;
  for (const x of [box.min.x, box.max.x]) {
    for (const y of [box.min.y, box.max.y]) {
      for (const z of [box.min.z, box.max.z]) {
        const corner = new THREE.Vector3(x, y, z).sub(centre);
        const near = corner.dot(toward);
        const across = Math.abs(corner.dot(right)) / tanH;
        const high = Math.abs(corner.dot(up)) / tanV;
        distance = Math.max(distance, near + across, near + high);
      }
    }
  }
  distance *= 1.1; // a margin
  camera.position.copy(centre).addScaledVector(toward, distance);
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  controls.target.copy(centre);
  controls.maxDistance = distance * 10;
  controls.update();
  controls.saveState(); // what a double-click goes back to
}

async function start(figure) {
  figure.setAttribute("data-viewer", "loading");
  if (!webglAvailable()) {
    giveUp(figure, "no-webgl");
    return;
  }
  let THREE, GLTFLoader, OrbitControls, gltf;
  try {
    [THREE, { GLTFLoader }, { OrbitControls }] = await Promise.all([
      import(VENDOR + "three.module.min.js"),
      import(VENDOR + "GLTFLoader.js"),
      import(VENDOR + "OrbitControls.js"),
    ]);
    // Same origin: the dashboard's login cookie goes with the request.
    gltf = await new GLTFLoader().loadAsync(figure.getAttribute("data-glb"));
  } catch (error) {
    giveUp(figure, "failed", error);
    return;
  }
  if (!figure.isConnected) {
    return; // swapped out while loading; its successor loads on its own
  }
  let renderer;
  try {
    renderer = new THREE.WebGLRenderer({ antialias: true });
  } catch (error) {
    giveUp(figure, "no-webgl", error);
    return;
  }
  const stage = document.createElement("div");
  stage.className = "viewer-stage";
  stage.appendChild(renderer.domElement);
  figure.prepend(stage);
  renderer.setPixelRatio(window.devicePixelRatio || 1);

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xf4f6f8);
  scene.add(gltf.scene);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x5d6875, 1.1));
  const sun = new THREE.DirectionalLight(0xffffff, 1.8);
  sun.position.set(0.5, 1, 0.25); // high, from one side: walls facing apart shade apart
  scene.add(sun);

  const camera = new THREE.PerspectiveCamera(40, 1, 0.01, 1000);
  const controls = new OrbitControls(camera, renderer.domElement);
  let pending = false;
  function draw() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        renderer.render(scene, camera);
      });
    }
  }
  const box = new THREE.Box3().setFromObject(gltf.scene);
  let fitted = false;
  function resize() {
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    if (width && height) {
      renderer.setSize(width, height, false); // the stylesheet sizes the canvas
      camera.aspect = width / height;
      camera.updateProjectionMatrix();
      if (!fitted) {
        fit(THREE, camera, controls, box); // once the canvas has its proportions
        fitted = true;
      }
      draw();
    }
  }
  controls.addEventListener("change", draw);
  renderer.domElement.addEventListener("dblclick", function () {
    controls.reset();
  });
  const sizes = new ResizeObserver(resize);
  sizes.observe(stage);
  resize();

  let meshes = 0;
  gltf.scene.traverse(function (node) {
    meshes += node.isMesh ? 1 : 0;
  });
  running.set(figure, function () {
    sizes.disconnect();
    controls.dispose();
    renderer.dispose();
    renderer.forceContextLoss();
  });
  // Marked once the first frame is drawn (the next animation frame runs after ours).
  window.requestAnimationFrame(function () {
    window.requestAnimationFrame(function () {
      figure.querySelector(".viewer-fallback").hidden = true;
      figure.querySelector(".viewer-help").hidden = false;
      figure.setAttribute("data-meshes", String(meshes));
      figure.setAttribute("data-loaded", "1");
      figure.setAttribute("data-viewer", "ready");
    });
  });
}

function scan() {
  for (const [figure, free] of running) {
    if (!figure.isConnected) {
      running.delete(figure);
      free();
    }
  }
  for (const figure of document.querySelectorAll("figure.viewer[data-glb]:not([data-viewer])")) {
    start(figure);
  }
}

new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
scan();
