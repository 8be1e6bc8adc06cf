// The page: hands each chosen or dropped workbook to the worker and shows its report. No request
// leaves this computer after the checker has loaded; the downloads are made here, from memory.
const progress = document.getElementById("progress");
const results = document.getElementById("results");
const input = document.getElementById("files");
const zone = document.getElementById("drop-zone");
const form = document.getElementById("check-form");
const asOf = document.getElementById("as-of");
const region = document.getElementById("region");

asOf.value = new Date().toISOString().slice(0, 10);
const queue = [];
const waiting = new Map();
let worker = null;
let ready = false;
let busy = false;
let nextId = 0;
let total = 0;
let done = 0;

function say(text) { progress.textContent = text; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

function startWorker() {
  ready = false;
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event) => {
    const m = event.data;
    if (m.type === "progress") say(m.text);
    else if (m.type === "ready") {
      ready = true;
      document.body.dataset.ready = "true";
      say(`Ready: choose one or more returns (${m.returns}).`);
      pump();
    } else if (m.type === "broken") say(`The checker could not start in this browser (${m.message}). Use the kpd-returns command instead.`);
    else if (m.type === "result" || m.type === "failed") finish(m);
  };
  worker.onerror = () => {
    // The worker itself stopped (for example, out of memory): say so for the file, start a fresh one.
    const current = [...waiting.values()][0];
    if (current) finish({ type: "failed", id: current.id, message: "the checker ran out of memory or stopped" });
    worker.terminate();
    startWorker();
  };
}

function add(files) {
  for (const file of files) {
    const id = ++nextId;
    // The file's name is shown once checked, masked as the reports mask it (a name may hold personal data).
    const section = el("section", { class: "file-report", "aria-labelledby": `file-${id}`, "data-state": "waiting" });
    section.append(el("h2", { id: `file-${id}` }, `File ${id}`), el("p", {}, "Waiting to be checked."));
    results.append(section);
    queue.push({ id, file, section });
    total += 1;
  }
  pump();
}

function pump() {
  if (!ready || busy || queue.length === 0) {
    if (!ready && queue.length) say("Getting the checker ready: your files will be checked as soon as it is.");
    return;
  }
  const item = queue.shift();
  busy = true;
  waiting.set(item.id, item);
  say(`Checking file ${item.id} (${done + 1} of ${total})…`);
  worker.postMessage({ type: "check", id: item.id, file: item.file, region: region.value, asOf: asOf.value });
}

function finish(m) {
  const item = waiting.get(m.id);
  waiting.delete(m.id);
  busy = false;
  done += 1;
  if (item) {
    if (m.type === "result") show(item, m.result, m.annotated);
    else shown(item, [el("p", { class: "verdict verdict-unreadable", "data-verdict": "unreadable" },
      `File ${item.id} could not be checked here (${m.message}). Check it with the kpd-returns command.`)], "failed");
  }
  say(queue.length ? `Checked ${done} of ${total}.` : `Checked ${done} of ${total} file${total === 1 ? "" : "s"}. You can choose more.`);
  pump();
}

function shown(item, nodes, state, name) {
  const heading = item.section.querySelector("h2");
  if (name) heading.textContent = name;
  item.section.replaceChildren(heading, ...nodes);
  item.section.dataset.state = state;
}

function download(label, name, blob) {
  return el("a", { href: URL.createObjectURL(blob), download: name }, label);
}

function show(item, result, annotated) {
  const report = result.report;
  const file = report.files[0];
  const nodes = [el("p", { class: `verdict verdict-${file.verdict}`, "data-verdict": file.verdict }, result.summary)];
  const links = el("p", { class: "downloads" });
  if (annotated) {
    links.append(download(`Download the annotated copy (${result.annotated_name})`, result.annotated_name,
      new Blob([annotated], { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" })));
  }
  links.append(download("Download the report (JSON)", result.json_name, new Blob([result.json], { type: "application/json" })));
  nodes.push(links);
  if (result.note) nodes.push(el("p", {}, result.note));
  const sheets = new Map();
  for (const f of file.findings) {
    const sheet = f.sheet || "Whole file";
    if (!sheets.has(sheet)) sheets.set(sheet, []);
    sheets.get(sheet).push(f);
  }
  if (!file.findings.length) nodes.push(el("p", {}, "Nothing to fix: every check passed."));
  for (const [sheet, findings] of sheets) {
    const table = el("table", { class: "findings" },
      el("caption", { class: "visually-hidden" }, `Findings on ${sheet}`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Cell"), el("th", { scope: "col" }, "Severity"),
        el("th", { scope: "col" }, "What is wrong"), el("th", { scope: "col" }, "Guidance"))));
    const body = el("tbody");
    for (const f of findings) {
      const what = el("td", { class: "wrap" }, el("span", { class: "message" }, f.message));
      if (f.status === "explained") what.append(el("br"), el("span", { class: "explanation" }, `Explained: ${f.explanation}`));
      body.append(el("tr", { "data-code": f.code, "data-cell": f.cell || "" },
        el("td", {}, f.cell || "—"),
        el("td", {}, f.status === "explained" ? `${f.severity}, explained` : f.severity),
        what, el("td", {}, f.guidance || "")));
    }
    table.append(body);
    nodes.push(el("h3", {}, `${sheet}: ${findings.length} finding${findings.length === 1 ? "" : "s"}`), el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Findings on ${sheet}` }, table));
  }
  shown(item, nodes, "done", file.name);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!input.files.length) { say("Choose at least one return first."); input.focus(); return; }
  add(input.files);
  input.value = "";
});
input.addEventListener("change", () => { add(input.files); input.value = ""; });
zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (event) => { event.preventDefault(); zone.classList.remove("over"); add(event.dataTransfer.files); });
startWorker();
