/* 摘要: upload or paste, then the gist, points, tasks and figures beside the source; a click on an
   item highlights the paragraphs it comes from. */
"use strict";
(() => {
  const { $, el, show, run, resume, busy, fileInto, error } = SS;

  fileInto($("file"), $("text"), (data, file) => {
    if (!$("title").value) $("title").value = file.name.replace(/\.[^.]+$/, "");
  });

  function item(cls, text, sources, extra) {
    const li = el("li", { class: "item " + cls, tabindex: "0", "data-source": (sources || []).join(",") },
      text, extra || null, sources && sources.length ? el("span", { class: "src", text: " ¶" + sources.join("、¶") }) : null);
    li.addEventListener("click", () => highlight(li, sources || []));
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") highlight(li, sources || []); });
    return li;
  }

  function highlight(li, sources) {
    document.querySelectorAll("#summary .item.on").forEach((n) => n.classList.remove("on"));
    document.querySelectorAll("#source li.hl").forEach((n) => n.classList.remove("hl"));
    li.classList.add("on");
    let first = null;
    for (const n of sources) {
      const p = document.getElementById("p" + n);
      if (p) { p.classList.add("hl"); first = first || p; }
    }
    if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function render(result) {
    const out = result.output;
    const box = $("summary");
    box.replaceChildren();
    box.append(el("h3", { text: "要旨" }), el("ul", {}, item("gist", out.gist, out.gist_source)));
    if ((out.key_points || []).length) box.append(el("h3", { text: "要点" }), el("ol", {}, out.key_points.map((p) => item("point", p.text, p.source))));
    if ((out.tasks || []).length) box.append(el("h3", { text: "任务与要求" }), el("ol", {}, out.tasks.map((t) => item("task", t.what, t.source, t.who ? el("span", { class: "who", text: "（" + t.who + "）" }) : null))));
    if ((out.figures || []).length) box.append(el("h3", { text: "数字" }), el("ul", {}, out.figures.map((f) => item("figure", f.value + "：" + f.measures, f.source))));
    const src = $("source");
    src.replaceChildren();
    (result.source_paragraphs || []).forEach((p, i) => src.append(el("li", { id: "p" + (i + 1), value: i + 1, text: p })));
    show($("result"), true);
  }

  function onEnd(job) {
    busy($("submit"), false);
    if (job.status === "done") render(job.result);
  }

  $("summarize-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) { error("请上传文件或粘贴全文。"); return; }
    busy($("submit"), true);
    show($("result"), false);
    try {
      await run("summarize", { text, title: $("title").value, length: $("length").value, method: $("method").value }, { end: onEnd });
    } catch (err) { busy($("submit"), false); error(err.message); }
  });

  resume({
    request: (r) => { $("text").value = r.text || ""; $("title").value = r.title || ""; $("length").value = r.length || "medium"; $("method").value = r.method || "auto"; },
    end: onEnd,
  });
})();
