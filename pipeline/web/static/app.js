/* speechsmith pages: shared helpers. Plain JS, no library, nothing fetched from elsewhere. */
"use strict";

const SS = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const STAGES = {
    queue: "排队中", start: "开始", part: "起草", setup: "准备模型", select: "挑选范文", plan: "列提纲",
    draft: "起草", repair: "调整", check: "检查", chunk: "分段处理", reduce: "汇总",
    condense: "压缩", rewrite: "改写", done: "完成", failed: "失败",
  };

  /* What each check rule is called on the page (the rule's own message gives the detail). */
  const RULES = {
    F101: "数字、日期原文没有", F102: "人名原文没有", F103: "文件名原文没有",
    L101: "字数不符", L102: "时长不符",
    N101: "序号跳号", N102: "序号重复", N103: "序号倒序",
    P101: "占位符未替换", P102: "模板括号未填", P103: "待补充标记",
    R101: "段落重复", R102: "句子重复", R103: "句子过长",
    S101: "缺少称呼", S102: "称呼与听众不符", S103: "缺少结束语", S104: "欢迎致辞缺少尊称",
    T101: "繁体字", U101: "半角标点", U102: "括号引号不成对", U103: "标点重复", U104: "破折号写法",
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function show(node, on) { node.classList.toggle("hidden", !on); }

  function describeError(data, status) {
    if (data && typeof data.error === "string") return data.error;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => {
        const where = (d.loc || []).filter((x) => x !== "body").join(".");
        return (where ? where + "：" : "") + (d.msg || "");
      }).join("；");
    }
    if (status === 413) return "上传的内容太大。";
    return "服务器出错（" + status + "）";
  }

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf };
    let payload = body;
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const resp = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok && resp.status !== 202) throw new Error(describeError(data, resp.status));
    return data;
  }

  async function upload(file) {
    const maxMb = Number(document.querySelector('meta[name="max-upload-mb"]').content);
    if (file.size > maxMb * 1024 * 1024) {
      throw new Error("文件太大（" + (file.size / 1048576).toFixed(1) + " MB）：上限是 " + maxMb + " MB。");
    }
    const form = new FormData();
    form.append("file", file, file.name);
    return api("POST", "/api/upload", form);
  }

  function error(message) {
    const box = $("error");
    if (!box) { alert(message); return; }
    box.textContent = message || "";
    show(box, Boolean(message));
  }

  /* Progress panel: a status line, a bar, and a log of the task's steps. */
  const progress = {
    start(jobId) {
      show($("progress"), true);
      $("progress-log").replaceChildren();
      $("progress-fill").style.width = "3%";
      $("progress-status").textContent = "已提交，等待开始…";
      if (jobId) {
        const url = location.pathname + "?job=" + jobId;
        history.replaceState(null, "", url);
        $("joblink-a").href = url;
        $("joblink-a").textContent = location.origin + url;
        show($("joblink"), true);
      }
    },
    event(ev) {
      const label = ev.label || STAGES[ev.stage] || ev.stage;
      const count = ev.total ? "（" + ev.done + "/" + ev.total + "）" : "";
      $("progress-status").textContent = (STAGES[ev.stage] || ev.stage) + "：" + label + count;
      if (ev.stage !== "queue") {
        const log = $("progress-log");
        log.append(el("li", { class: "ev-" + ev.stage, text: label + count + (ev.time !== undefined ? "  " + ev.time.toFixed(1) + " 秒" : "") }));
        log.scrollTop = log.scrollHeight;
      }
      if (ev.total) $("progress-fill").style.width = Math.max(3, Math.min(100, 100 * ev.done / ev.total)) + "%";
    },
    queue(position) {
      if (position === null || position === undefined) return;
      $("progress-status").textContent = position > 0 ? "排队中：前面还有 " + position + " 项任务" : "马上开始…";
    },
    end(job) {
      $("progress-fill").style.width = "100%";
      $("progress-status").textContent = job.status === "done" ? "完成" : "失败";
      $("progress").classList.add("finished");
    },
  };

  /* Follow a job: progress events as they come (Server-Sent Events), then the result. */
  function follow(jobId, handlers) {
    const onEvent = handlers.event || (() => {});
    const onEnd = handlers.end || (() => {});
    let finished = false;
    if (!window.EventSource) return poll(jobId, onEnd);
    const source = new EventSource("/api/jobs/" + jobId + "/events");
    source.addEventListener("progress", (m) => {
      const ev = JSON.parse(m.data);
      progress.event(ev);
      onEvent(ev);
    });
    source.addEventListener("queue", (m) => progress.queue(JSON.parse(m.data).position));
    source.addEventListener("end", (m) => {
      finished = true;
      source.close();
      const job = JSON.parse(m.data);
      progress.end(job);
      if (job.status === "failed") error(job.error || "任务失败");
      onEnd(job);
    });
    source.onerror = () => {
      // The browser reconnects by itself (and resumes after the last event it saw); a job the
      // server no longer knows ends the stream for good.
      if (finished) return;
      fetch("/api/jobs/" + jobId, { credentials: "same-origin" }).then((r) => {
        if (r.status === 404) { source.close(); error("没有这个任务（服务器可能已重启并清理）。"); }
      }).catch(() => {});
    };
    return source;
  }

  async function poll(jobId, onEnd) {
    for (;;) {
      const job = await api("GET", "/api/jobs/" + jobId);
      if (job.status === "done" || job.status === "failed") { progress.end(job); onEnd(job); return; }
      progress.queue(job.position);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /* Submit a task and follow it. */
  async function run(task, body, handlers) {
    error("");
    const job = await api("POST", "/api/" + task, body);
    progress.start(job.id);
    follow(job.id, handlers);
    return job;
  }

  function jobFromUrl() {
    const id = new URLSearchParams(location.search).get("job");
    return id && /^[0-9a-f]{32}$/.test(id) ? id : null;
  }

  /* A page opened by its job link: show the job again (running or finished). */
  async function resume(handlers) {
    const id = jobFromUrl();
    if (!id) return null;
    try {
      const job = await api("GET", "/api/jobs/" + id);
      if (handlers.request) handlers.request(job.request || {});
      progress.start(id);
      follow(id, handlers);
      return job;
    } catch (e) {
      error(e.message);
      return null;
    }
  }

  function busy(button, on) {
    button.disabled = on;
    button.classList.toggle("busy", on);
  }

  function downloads(jobId, formats) {
    for (const fmt of formats) {
      const a = $("dl-" + fmt);
      if (a) a.href = "/api/jobs/" + jobId + "/download?format=" + fmt;
    }
  }

  /* Text with [start, end) ranges (code points) wrapped in <mark>, for findings and facts. */
  function markRanges(text, ranges) {
    const chars = Array.from(text);
    const sorted = ranges.filter((r) => r.start < r.end).sort((a, b) => a.start - b.start);
    const out = [];
    let at = 0;
    for (const r of sorted) {
      if (r.start < at) continue;
      out.push(chars.slice(at, r.start).join(""));
      out.push(el("mark", Object.assign({ title: r.title || "", class: r.cls || "" }, r.attrs || {}), chars.slice(r.start, r.end).join("")));
      at = r.end;
    }
    out.push(chars.slice(at).join(""));
    return out;
  }

  function fileInto(input, textarea, after) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      error("");
      try {
        const data = await upload(file);
        textarea.value = data.text;
        if (after) after(data, file);
      } catch (e) {
        error(e.message);
        input.value = "";
      }
    });
  }

  return { RULES, $, el, show, api, upload, error, progress, follow, run, resume, busy, downloads, markRanges, fileInto, STAGES };
})();
