/* 写讲话: the brief form, live drafting, the result laid out like the .docx, edits, re-drafts. */
"use strict";
(() => {
  const { RULES, $, el, show, api, run, resume, busy, downloads, markRanges, error } = SS;
  let jobId = null;
  let speech = null;      // the current result (Speech as JSON)
  let brief = null;       // the request it was written from

  // ---- points: add, remove, reorder ---------------------------------------------------------
  function addPoint(value) {
    const input = el("input", { class: "point", value: value || "", placeholder: "例：压实安全生产责任", oninput: schedulePreview });
    const li = el("li", {},
      input,
      el("button", { type: "button", class: "icon", title: "上移", onclick: () => { if (li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling); schedulePreview(); } }, "↑"),
      el("button", { type: "button", class: "icon", title: "下移", onclick: () => { if (li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li); schedulePreview(); } }, "↓"),
      el("button", { type: "button", class: "icon", title: "删除", onclick: () => { li.remove(); schedulePreview(); } }, "✕"));
    $("points").append(li);
    return input;
  }
  $("add-point").addEventListener("click", () => addPoint("").focus());

  function points() {
    return Array.from(document.querySelectorAll("#points input.point")).map((i) => i.value.trim()).filter(Boolean);
  }

  function formBrief() {
    const facts = $("facts").value.split("\n").map((s) => s.trim()).filter(Boolean);
    const body = {
      occasion: $("occasion").value.trim(), speaker: $("speaker").value.trim(),
      audience: $("audience").value.trim(), points: points(),
      length: Number($("length").value || 1500), tone: $("tone").value.trim(), facts,
    };
    const boxes = document.querySelectorAll("#examples input[type=checkbox]");
    if (boxes.length) {
      const ids = Array.from(boxes).filter((b) => b.checked).map((b) => b.value);
      body.examples = ids.length ? ids.join(",") : "0";
    }
    return body;
  }

  function fillForm(req) {
    $("occasion").value = req.occasion || "";
    $("speaker").value = req.speaker || "";
    $("audience").value = req.audience || "";
    $("length").value = req.length || 1500;
    $("tone").value = req.tone || "";
    $("facts").value = (req.facts || []).join("\n");
    $("points").replaceChildren();
    (req.points || []).forEach((p) => addPoint(p));
    schedulePreview();
  }

  // ---- examples: chosen by the task's own selection (a dry run), changeable ----------------
  let timer = null;
  let titles = null;  // corpus id -> title, for the example list
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 700);
  }
  ["occasion", "audience", "speaker"].forEach((id) => $(id).addEventListener("input", schedulePreview));

  async function preview() {
    const body = formBrief();
    delete body.examples;
    if (body.occasion.length < 2 || !body.points.length) return;
    try {
      const data = await api("POST", "/api/adapt/preview", body);
      const chosen = new Set(data.examples);
      if (!titles) {
        titles = {};
        try { (await api("GET", "/api/corpus")).speeches.forEach((s) => { titles[s.id] = s.title; }); } catch (e) { /* ids alone */ }
      }
      const box = $("examples");
      box.replaceChildren();
      const seen = new Set();
      for (const r of data.ranking) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        box.append(el("label", { class: "example" },
          el("input", { type: "checkbox", value: r.id, checked: chosen.has(r.id) }),
          el("span", { text: titles[r.id] || r.id }), el("small", { class: "muted", text: r.id })));
      }
      if (!seen.size) box.append(el("span", { class: "muted", text: "语料库里没有范文" }));
    } catch (e) {
      $("examples").replaceChildren(el("span", { class: "muted", text: "暂时无法挑选范文：" + e.message }));
    }
  }

  // ---- live drafting ------------------------------------------------------------------------
  function onEvent(ev) {
    if (ev.stage !== "draft") return;
    const live = $("live");
    show(live, true);
    if (!ev.text) {
      // A part begins: its name, then its paragraphs as the model writes them.
      live.append(el("h3", { text: ev.label }));
      return;
    }
    live.append(el("p", { class: "para new", text: ev.text }));
    live.scrollTop = live.scrollHeight;
  }

  function onEnd(job) {
    busy($("submit"), false);
    if (job.status !== "done") return;
    jobId = job.id;
    brief = job.request;
    render(job.result);
  }

  // ---- the result, laid out like the .docx, failed checks at their sentences ----------------
  function failedChecks(result) {
    return Object.entries(result.checks || {}).filter(([, c]) => c && c.passed === false);
  }

  function marksFor(text, result) {
    const ranges = [];
    const lint = (result.checks || {}).lint || {};
    for (const f of lint.findings || []) {
      if (!f.excerpt || f.severity === "info") continue;
      const at = Array.from(text).join("").indexOf(f.excerpt);
      if (at >= 0) ranges.push({ start: Array.from(text.slice(0, at)).length, end: Array.from(text.slice(0, at)).length + Array.from(f.excerpt).length, title: (RULES[f.rule] || f.rule) + "：" + f.message, cls: f.severity });
    }
    for (const fact of ((result.checks || {}).facts || {}).flagged || []) {
      const at = text.indexOf(fact);
      if (at >= 0) ranges.push({ start: Array.from(text.slice(0, at)).length, end: Array.from(text.slice(0, at)).length + Array.from(fact).length, title: "提纲没有给出的数字、日期或人名，请核对", cls: "fact" });
    }
    return ranges;
  }

  function para(text, path, result, cls) {
    return el("p", { class: cls || "para", "data-path": path }, markRanges(text, marksFor(text, result)));
  }

  function render(result) {
    speech = result.output;
    show($("live"), false);
    show($("result"), true);
    downloads(jobId, ["docx", "md"]);
    const checks = $("checks");
    checks.replaceChildren();
    const failed = failedChecks(result);
    checks.append(el("p", { class: failed.length ? "warn" : "ok" },
      failed.length ? "有 " + failed.length + " 项检查没有通过（文中已标出）：" : "全部检查通过。",
      "共 " + (speech.zishu || "") + " 字，约 " + (speech.minutes || "") + " 分钟。"));
    for (const [name, c] of failed) checks.append(el("div", { class: "check-item" }, describeCheck(name, c)));
    const paper = $("speech");
    paper.replaceChildren();
    paper.append(el("h2", { class: "title", "data-path": "title", text: speech.title }));
    if (speech.subtitle) paper.append(el("p", { class: "subtitle", text: speech.subtitle }));
    if (speech.salutation) paper.append(el("p", { class: "salutation", "data-path": "salutation", text: speech.salutation }));
    (speech.opening || "").split("\n").filter(Boolean).forEach((p, i) => paper.append(para(p, "opening." + i, result)));
    speech.sections.forEach((s, si) => {
      paper.append(el("h3", { class: "h1", "data-path": "sections." + si + ".heading" }, s.heading,
        el("button", { type: "button", class: "redraft small", title: "按这个标题重新写这一部分", onclick: () => redraft(si) }, "重写这一部分")));
      s.paragraphs.forEach((p, pi) => paper.append(para(p, "sections." + si + ".paragraphs." + pi, result)));
      (s.subsections || []).forEach((sub, bi) => {
        paper.append(el("h4", { class: "h2", "data-path": "sections." + si + ".subsections." + bi + ".heading", text: sub.heading }));
        sub.paragraphs.forEach((p, pi) => paper.append(para(p, "sections." + si + ".subsections." + bi + ".paragraphs." + pi, result)));
      });
    });
    (speech.closing || "").split("\n").filter(Boolean).forEach((p, i) => paper.append(para(p, "closing." + i, result)));
  }

  function describeCheck(name, c) {
    const names = { length: "字数", structure: "结构", facts: "事实", lint: "规范", placeholders: "占位符", repetition: "重复" };
    let detail = "";
    if (name === "length") detail = "写了 " + c.zishu + " 字，目标 " + c.target + " 字";
    else if (name === "facts") detail = "提纲没有给出的：" + (c.flagged || []).join("、");
    else if (name === "structure") detail = (c.missing_points || []).length ? "缺少要点：" + c.missing_points.join("、") : "称呼或开头结尾不全";
    else if (name === "lint") detail = (c.errors || 0) + " 个错误，" + (c.warnings || 0) + " 个提醒";
    return (names[name] || name) + "：" + detail;
  }

  // ---- edit in place, save (downloads use the edited text) ----------------------------------
  $("edit").addEventListener("click", () => {
    document.querySelectorAll("#speech [data-path]").forEach((n) => { n.contentEditable = "true"; });
    $("speech").classList.add("editing");
    show($("save"), true);
    show($("edit"), false);
  });

  function collect() {
    const out = JSON.parse(JSON.stringify(speech));
    const opening = [], closing = [];
    out.sections.forEach((s) => { s.paragraphs = []; (s.subsections || []).forEach((b) => { b.paragraphs = []; }); });
    document.querySelectorAll("#speech [data-path]").forEach((n) => {
      const text = n.textContent.replace("重写这一部分", "").trim();
      const path = n.dataset.path.split(".");
      if (path[0] === "title") out.title = text;
      else if (path[0] === "salutation") out.salutation = text;
      else if (path[0] === "opening") { if (text) opening.push(text); }
      else if (path[0] === "closing") { if (text) closing.push(text); }
      else {
        const s = out.sections[Number(path[1])];
        if (path[2] === "heading") s.heading = text;
        else if (path[2] === "paragraphs") { if (text) s.paragraphs.push(text); }
        else {
          const b = s.subsections[Number(path[3])];
          if (path[4] === "heading") b.heading = text; else if (text) b.paragraphs.push(text);
        }
      }
    });
    out.opening = opening.join("\n");
    out.closing = closing.join("\n");
    for (const k of ["zishu", "minutes"]) delete out[k];
    return out;
  }

  async function save(edited) {
    const job = await api("PUT", "/api/jobs/" + jobId + "/speech", edited);
    render(job.result);
  }

  $("save").addEventListener("click", async () => {
    try {
      await save(collect());
      show($("save"), false);
      show($("edit"), true);
      $("speech").classList.remove("editing");
    } catch (e) { error(e.message); }
  });

  // ---- re-draft one section: adapt with that one point, its length -------------------------
  async function redraft(index) {
    const section = speech.sections[index];
    const heading = section.heading.replace(/^[一二三四五六七八九十]+、/, "");
    const zi = section.paragraphs.join("").length;
    const body = Object.assign({}, brief, { points: [heading], length: Math.max(100, Math.min(20000, zi + 200)), examples: brief.examples || null });
    error("");
    const button = document.querySelectorAll("#speech .redraft")[index];
    busy(button, true);
    try {
      await run("adapt", body, {
        event: onEvent,
        end: async (job) => {
          busy(button, false);
          if (job.status !== "done") return;
          const fresh = job.result.output.sections[0];
          const edited = JSON.parse(JSON.stringify(speech));
          edited.sections[index].paragraphs = fresh.paragraphs;
          delete edited.zishu; delete edited.minutes;
          history.replaceState(null, "", location.pathname + "?job=" + jobId);  // the speech's own link
          await save(edited);
        },
      });
    } catch (e) { busy(button, false); error(e.message); }
  }

  // ---- submit -------------------------------------------------------------------------------
  $("adapt-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = formBrief();
    if (!body.points.length) { error("请至少写一个要点。"); return; }
    busy($("submit"), true);
    show($("result"), false);
    $("live").replaceChildren();
    try {
      await run("adapt", body, { event: onEvent, end: onEnd });
    } catch (err) {
      busy($("submit"), false);
      error(err.message);
    }
  });

  addPoint("");
  addPoint("");
  resume({ request: fillForm, event: onEvent, end: onEnd });
})();
