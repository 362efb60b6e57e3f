/* 范文与素材: list and search the corpus, read a speech, correct its labels, add by upload. */
"use strict";
(() => {
  const { $, el, show, api, error } = SS;
  let current = null;

  async function list() {
    try {
      const data = await api("GET", "/api/corpus?q=" + encodeURIComponent($("q").value.trim()));
      $("total").textContent = "共 " + data.total + " 篇" + ($("q").value.trim() ? "，找到 " + data.speeches.length + " 篇" : "");
      const ul = $("list");
      ul.replaceChildren();
      for (const s of data.speeches) {
        ul.append(el("li", { class: "speech", "data-id": s.id, onclick: () => open(s.id) },
          el("b", { text: s.title }), el("span", { class: "muted", text: " " + s.id + " · " + s.genre + " · " + s.zishu + " 字" }),
          s.snippet ? el("div", { class: "snippet", text: "…" + s.snippet + "…" }) : null));
      }
    } catch (e) { error(e.message); }
  }

  async function open(id) {
    error("");
    try {
      const r = await api("GET", "/api/corpus/" + encodeURIComponent(id));
      current = r.id;
      for (const k of ["title", "genre", "occasion", "speaker", "audience"]) $("l-" + k).value = r[k] || "";
      $("saved").textContent = "";
      const paper = $("record");
      paper.replaceChildren(el("h2", { class: "title", text: r.title }), ...r.paragraphs.map((p) => el("p", { class: "para", text: p })));
      show($("detail"), true);
      if ($("hits")) show($("hits"), false);
      document.querySelectorAll("#list li").forEach((li) => li.classList.toggle("on", li.dataset.id === id));
    } catch (e) { error(e.message); }
  }

  $("labels").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const k of ["title", "genre", "occasion", "speaker", "audience"]) body[k] = $("l-" + k).value.trim();
    try {
      await api("PATCH", "/api/corpus/" + encodeURIComponent(current), body);
      $("saved").textContent = "已保存";
      list();
    } catch (err) { error(err.message); }
  });

  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); list(); });

  $("add-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("file").files[0];
    if (!file) { error("请先选择文件。"); return; }
    const form = new FormData();
    form.append("file", file, file.name);
    $("add-result").textContent = "正在加入…";
    try {
      const data = await api("POST", "/api/corpus", form);
      $("add-result").textContent = data.outcomes.map((o) => o.message).join("；");
      list();
    } catch (err) { $("add-result").textContent = ""; error(err.message); }
  });

  const material = $("material-form");
  if (material) {
    material.addEventListener("submit", async (e) => {
      e.preventDefault();
      error("");
      const q = $("mq").value.trim();
      if (!q) return;
      try {
        const data = await api("GET", "/api/material?q=" + encodeURIComponent(q) + "&function=" + encodeURIComponent($("mfunction").value));
        const ol = $("hits");
        ol.replaceChildren(...data.hits.map((h) => el("li", { class: "hit" }, el("div", { class: "para", text: h.text }),
          el("div", { class: "muted", text: [h.source, h.year, h.function].filter(Boolean).join(" · ") }))));
        if (!data.hits.length) ol.append(el("li", { class: "muted", text: "没有找到" }));
        show(ol, true);
        show($("detail"), false);
      } catch (err) { error(err.message); }
    });
  }

  list();
})();
