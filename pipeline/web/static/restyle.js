/* 改写: the result beside the source with the changes marked; facts kept, dropped and added. */
"use strict";
(() => {
  const { $, el, show, run, resume, busy, fileInto, downloads, error } = SS;

  fileInto($("file"), $("text"));

  function runs(parts) {
    return parts.map(([kind, text]) => kind === "same" ? text : el(kind === "del" ? "del" : "ins", { text }));
  }

  function factList(label, items, cls) {
    return el("p", { class: "facts " + cls }, el("b", { text: label + "（" + items.length + "）：" }), items.length ? items.join("、") : "无");
  }

  function render(job) {
    const result = job.result;
    downloads(job.id, ["docx", "md"]);
    const facts = result.output.facts || {};
    const asText = (xs) => (xs || []).map((x) => (typeof x === "string" ? x : x.text || JSON.stringify(x)));
    $("facts").replaceChildren(
      factList("保留的事实", asText(facts.kept), "kept"),
      factList("删去的事实", asText(facts.dropped), "dropped"),
      factList("新增的事实（原文没有，请核对）", asText(facts.added), (facts.added || []).length ? "added warn" : "added"));
    const body = $("diff");
    body.replaceChildren();
    for (const row of result.diff || []) body.append(el("tr", {}, el("td", {}, runs(row.old)), el("td", {}, runs(row.new))));
    show($("result"), true);
  }

  $("restyle-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!$("text").value.trim()) { error("请上传文件或粘贴原文。"); return; }
    const b = { text: $("text").value, style: $("style").value, audience: $("audience").value };
    if ($("length").value) b.length = Number($("length").value);
    busy($("submit"), true);
    show($("result"), false);
    try {
      await run("restyle", b, { end: (job) => { busy($("submit"), false); if (job.status === "done") render(job); } });
    } catch (err) { busy($("submit"), false); error(err.message); }
  });

  resume({
    request: (r) => { $("text").value = r.text || ""; $("style").value = r.style || ""; $("audience").value = r.audience || ""; if (r.length) $("length").value = r.length; },
    end: (job) => { if (job.status === "done") render(job); },
  });
})();
