/* 检查: findings highlighted in the text, the safe fixes applied on request, downloads. */
"use strict";
(() => {
  const { RULES, $, el, show, run, resume, busy, fileInto, downloads, markRanges, error } = SS;
  const SEVERITY = { error: "错误", warning: "提醒", info: "提示" };

  fileInto($("file"), $("text"));

  function render(job) {
    const result = job.result;
    const out = result.output;
    const text = out.fixed_text !== undefined ? out.fixed_text : job.request.text;
    if (out.fixed_text !== undefined) $("text").value = out.fixed_text;
    downloads(job.id, ["docx", "txt"]);
    const c = out.counts || {};
    $("counts").textContent = (out.fixed_text !== undefined ? "已应用安全修改。" : "") +
      "错误 " + (c.error || 0) + " 个，提醒 " + (c.warning || 0) + " 个，提示 " + (c.info || 0) + " 个；共 " + out.zi + " 字，约 " + out.minutes + " 分钟。";
    const findings = out.findings || [];
    const ranges = findings.filter((f) => f.span).map((f, i) => ({ start: f.span[0], end: f.span[1], cls: f.severity, title: (RULES[f.rule] || f.rule) + "：" + f.message, attrs: { id: "m" + i } }));
    $("marked").replaceChildren(...markRanges(text, ranges));
    const list = $("findings");
    list.replaceChildren();
    findings.forEach((f, i) => {
      list.append(el("li", { class: "finding " + f.severity, onclick: () => { const m = document.getElementById("m" + i); if (m) { m.scrollIntoView({ block: "center" }); m.classList.add("flash"); setTimeout(() => m.classList.remove("flash"), 1200); } } },
        el("b", { text: (SEVERITY[f.severity] || f.severity) + "：" + (RULES[f.rule] || f.rule) }), " ",
        el("span", { class: "muted", text: f.rule + " " + f.message }),
        f.fixable ? el("span", { class: "fixable", text: "（可自动修改）" }) : null,
        f.excerpt ? el("q", { text: f.excerpt }) : null));
    });
    $("fix").disabled = !findings.some((f) => f.fixable);
    show($("result"), true);
  }

  function body(fix) {
    const b = { text: $("text").value, audience: $("audience").value, fix };
    if ($("length").value) b.length = Number($("length").value);
    return b;
  }

  async function submit(fix) {
    if (!$("text").value.trim()) { error("请上传文件或粘贴讲话稿。"); return; }
    const button = fix ? $("fix") : $("submit");
    busy(button, true);
    try {
      await run("check", body(fix), { end: (job) => { busy(button, false); if (job.status === "done") render(job); } });
    } catch (err) { busy(button, false); error(err.message); }
  }

  $("check-form").addEventListener("submit", (e) => { e.preventDefault(); submit(false); });
  $("fix").addEventListener("click", () => submit(true));
  resume({
    request: (r) => { $("text").value = r.text || ""; $("audience").value = r.audience || ""; if (r.length) $("length").value = r.length; },
    end: (job) => { if (job.status === "done") render(job); },
  });
})();
