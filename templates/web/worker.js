// The validator, in a Web Worker: Pyodide, the pinned wheels and kpd-returns' own wheel, all from
// this site. Each file is put in Pyodide's in-memory file system and checked by
// kpd_returns.render.web_check, the package's own code; nothing is sent anywhere.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const say = (text) => postMessage({ type: "progress", text });
let checker = null;

async function start() {
  const t0 = performance.now();
  say("Getting the checker ready: loading Python (this takes a few seconds the first time)…");
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  const manifest = await (await fetch(new URL("./manifest.json", import.meta.url))).json();
  const site = "/lib/python3.14/site-packages";
  const wheels = [...manifest.wheels, manifest.package];
  for (const [i, wheel] of wheels.entries()) {
    say(`Getting the checker ready: installing ${i + 1} of ${wheels.length} parts…`);
    const bytes = new Uint8Array(await (await fetch(new URL(`./wheels/${wheel}`, import.meta.url))).arrayBuffer());
    pyodide.unpackArchive(bytes, "wheel", { extractDir: site });
  }
  say("Getting the checker ready: loading the return specifications…");
  const module = pyodide.pyimport("kpd_returns.render.web_check");
  const returns = module.warm();
  checker = { pyodide, module, n: 0 };
  postMessage({ type: "ready", returns, seconds: (performance.now() - t0) / 1000 });
}

async function check({ id, file, region, asOf }) {
  const { pyodide, module } = checker;
  const folder = `/tmp/check-${++checker.n}`;
  const inDir = `${folder}/in`;
  const FS = pyodide.FS;
  FS.mkdirTree(inDir);
  FS.mkdirTree(`${folder}/out`);
  const name = (file.name || "workbook.xlsx").replace(/[\\/]/g, "_");
  let mounted = false;
  try {
    if (FS.filesystems && FS.filesystems.WORKERFS) {
      // The file is read from the browser's copy only as the reader needs it: a file too big to check
      // is refused by its size, as on the command line, without being read into memory.
      FS.mount(FS.filesystems.WORKERFS, { blobs: [{ name, data: file }] }, inDir);
      mounted = true;
    } else {
      FS.writeFile(`${inDir}/${name}`, new Uint8Array(await file.arrayBuffer()));
    }
    const result = JSON.parse(module.check(inDir, name, region, asOf || null, `${folder}/out`));
    let annotated = null;
    if (result.annotated) {
      annotated = FS.readFile(result.annotated);
    }
    postMessage({ type: "result", id, result, annotated }, annotated ? [annotated.buffer] : []);
  } catch (err) {
    postMessage({ type: "failed", id, message: String(err && err.message ? err.message : err).split("\n").filter(Boolean).pop() });
  } finally {
    try {
      if (mounted) FS.unmount(inDir);
      pyodide.runPython(`import shutil; shutil.rmtree(${JSON.stringify(folder)}, ignore_errors=True)`);
    } catch (e) { /* best effort */ }
  }
}

const ready = start().catch((err) => {
  postMessage({ type: "broken", message: String(err && err.message ? err.message : err) });
  throw err;
});

onmessage = async (event) => {
  await ready;
  if (event.data.type === "check") await check(event.data);
};
