// townhall moderation pages: the keyboard, decisions without a reload, live queue counts.
// Plain JavaScript, no build step. Every action here is also a plain form post that works
// without this file; this only sends the same decisions to the moderation API instead.
(() => {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const API = "/api/v1/moderation";
  const baseTitle = document.title;
  const list = document.querySelector("ol.items");
  const inQueue = !!(list && list.dataset.queue);
  const banner = document.getElementById("new-banner");
  const help = document.getElementById("help");
  const VERB = {
    approve: "Approved", reject: "Rejected", spam: "Marked as spam", remove: "Removed",
    restore: "Restored",
  };
  const GOTO = {
    p: "/admin/queue/pending", f: "/admin/queue/flagged", r: "/admin/queue/recent",
    j: "/admin/queue/rejected", s: "/admin/queue/spam", d: "/admin/", l: "/admin/log",
    b: "/admin/bans",
  };

  function announce(text) {
    const el = document.getElementById("announce");
    if (!el) return;
    el.textContent = "";
    setTimeout(() => { el.textContent = text; }, 20);
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(API + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    if (res.status === 401) {
      location.href = "/admin/login?next=" + encodeURIComponent(location.pathname + location.search);
    }
    if (!res.ok) throw new Error((data && data.error && data.error.message) || `error ${res.status}`);
    return data;
  }

  // --- moving between comments -------------------------------------------------------------

  let current = null;
  const live = () => [...document.querySelectorAll("article.item:not(.gone):not(.done)")];

  function focusItem(el) {
    if (!el) return;
    if (current) current.classList.remove("current");
    current = el;
    el.classList.add("current");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = live();
    if (!all.length) return;
    let i = all.indexOf(current);
    i = i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step));
    focusItem(all[i]);
  }

  function after(item) {
    const all = [...document.querySelectorAll("article.item:not(.gone)")];
    const rest = all.slice(all.indexOf(item) + 1).filter((el) => !el.classList.contains("done"));
    return rest[0] || live().filter((el) => el !== item).pop() || null;
  }

  document.addEventListener("focusin", (e) => {
    const item = e.target.closest && e.target.closest("article.item");
    if (item && item !== current) {
      if (current) current.classList.remove("current");
      current = item;
      item.classList.add("current");
    }
  });

  // --- decisions ---------------------------------------------------------------------------

  let baseline = null; // queue size when last seen, for the "new comments" banner

  function reloadKeeping(id) {
    if (id) sessionStorage.setItem("townhall:focus", id);
    location.reload();
  }

  function done(item, text, leaves) {
    const outcome = item.querySelector(".outcome");
    item.querySelectorAll("details[open]").forEach((d) => { d.open = false; });
    if (outcome) {
      outcome.classList.remove("error");
      outcome.setAttribute("role", "status");
      outcome.textContent = text;
    }
    announce(text);
    if (!leaves) { focusItem(item); return; }
    if (!inQueue) { reloadKeeping(item.dataset.id); return; }
    const next = after(item);
    item.classList.add("done");
    const box = item.querySelector("input[name=ids]");
    if (box) box.checked = false;
    if (baseline !== null && baseline > 0) baseline -= 1;
    updateSelected();
    if (current === item || !current || current.classList.contains("done")) focusItem(next);
    setTimeout(() => { item.classList.add("gone"); }, 900);
  }

  function fail(item, message) {
    const outcome = item.querySelector(".outcome");
    if (outcome) {
      outcome.classList.add("error");
      outcome.setAttribute("role", "alert");
      outcome.textContent = message;
    }
    announce(message);
  }

  async function decide(form, item) {
    const act = form.dataset.act;
    const id = item.dataset.id;
    const data = new FormData(form);
    try {
      if (act === "ban") {
        const hours = data.get("hours");
        const ban = await api("POST", "/bans", {
          kind: data.get("kind") || "reader",
          reason: data.get("reason") || "",
          comment_id: id,
          hours: hours ? Number(hours) : null,
          shadow: data.get("shadow") === "1",
        });
        form.reset();
        done(item, `${ban.shadow ? "Shadow-banned" : "Banned"} the author (ban ${ban.id})`, false);
      } else {
        await api("POST", `/comments/${id}/${act}`, { reason: data.get("reason") || "" });
        done(item, `${VERB[act] || "Done"}: comment ${id}`, true);
      }
    } catch (err) {
      fail(item, err.message);
    }
  }

  function selected() {
    return [...document.querySelectorAll("input[name=ids][form=bulk]:checked")]
      .filter((box) => !box.closest("article.item.gone"));
  }

  function updateSelected() {
    const n = selected().length;
    document.querySelectorAll("[data-selected]").forEach((el) => { el.textContent = `${n} selected`; });
  }

  async function bulk(action) {
    const ids = selected().map((box) => box.value);
    if (!ids.length) { announce("Select comments first: x selects, * selects all."); return; }
    const reason = document.querySelector("#bulk input[name=reason]")?.value || "";
    let results;
    try {
      results = (await api("POST", "/bulk", { action, ids, reason })).results;
    } catch (err) {
      announce(err.message);
      const flash = document.createElement("p");
      flash.className = "flash flash-error";
      flash.setAttribute("role", "alert");
      flash.textContent = err.message;
      document.getElementById("bulk").after(flash);
      return;
    }
    if (!inQueue) { reloadKeeping(null); return; }
    let ok = 0;
    for (const r of results) {
      const item = document.getElementById("c" + r.comment_id);
      if (!item) continue;
      if (r.ok) { ok += 1; done(item, `${VERB[action] || "Done"}: comment ${r.comment_id}`, true); }
      else fail(item, r.error || "not possible");
    }
    announce(`${VERB[action] || "Done"}: ${ok} of ${results.length} comments.`);
  }

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      return;
    }
    if (form.id === "bulk") {
      e.preventDefault();
      const action = e.submitter && e.submitter.value;
      if (action) bulk(action);
      return;
    }
    const item = form.closest("article.item");
    if (!form.dataset.act || !item) return; // an ordinary form post
    e.preventDefault();
    decide(form, item);
  });

  document.addEventListener("click", (e) => {
    const preset = e.target.closest && e.target.closest("[data-reason]");
    if (preset) {
      const form = preset.closest("form");
      form.querySelector("input[name=reason]").value = preset.dataset.reason;
      form.requestSubmit();
      return;
    }
    if (e.target.closest && e.target.closest("[data-help]") && help) help.showModal();
  });

  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-select-all]")) {
      document.querySelectorAll("article.item:not(.gone) input[name=ids]").forEach((box) => {
        box.checked = e.target.checked;
      });
    }
    if (e.target.matches("input[name=ids], [data-select-all]")) updateSelected();
  });

  // --- the keyboard ------------------------------------------------------------------------

  function itemKey(item, key) {
    const submit = (act) => {
      const form = item.querySelector(`form[data-act="${act}"]`);
      if (!form) return false;
      form.requestSubmit();
      return true;
    };
    const panel = (name) => {
      const details = item.querySelector(`details[data-panel="${name}"]`);
      if (!details) return false;
      details.open = true;
      const field = details.querySelector("input[name=reason]");
      if (field) field.focus();
      return true;
    };
    const follow = (name) => {
      const link = item.querySelector(`a[data-key="${name}"]`);
      if (!link) return false;
      location.href = link.href;
      return true;
    };
    switch (key) {
      case "a": return submit("approve");
      case "r": return panel("r");
      case "d": return item.dataset.status === "published" && panel("r");
      case "s": return submit("spam");
      case "u": return submit("restore");
      case "b": return panel("b");
      case "e": case "h": case "t": return follow(key);
      case "x": {
        const box = item.querySelector("input[name=ids]");
        if (!box) return false;
        box.checked = !box.checked;
        updateSelected();
        return true;
      }
      default: return false;
    }
  }

  let goPending = false;
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    const target = e.target;
    const typing = target.matches && target.matches("input, textarea, select, [contenteditable]");
    if (e.key === "Escape") {
      const open = document.querySelector("article.item details[open]");
      if (open) {
        open.open = false;
        focusItem(open.closest("article.item"));
        e.preventDefault();
      }
      return;
    }
    if (typing) {
      // In an empty reason field, 1-9 picks one of the listed reasons and sends it.
      if (target.name === "reason" && /^[1-9]$/.test(e.key) && !target.value) {
        const form = target.closest("form");
        const preset = form && form.querySelectorAll("[data-reason]")[Number(e.key) - 1];
        if (preset) {
          e.preventDefault();
          target.value = preset.dataset.reason;
          form.requestSubmit();
        }
      }
      return;
    }
    if (document.querySelector("dialog[open]")) return;
    if (goPending) {
      goPending = false;
      if (GOTO[e.key]) { e.preventDefault(); location.href = GOTO[e.key]; }
      return;
    }
    let handled = true;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "?": if (help) help.showModal(); break;
      case "/": {
        const search = document.querySelector("[data-search]");
        if (search) search.focus(); else handled = false;
        break;
      }
      case ".": location.reload(); break;
      case "g": goPending = true; setTimeout(() => { goPending = false; }, 1500); break;
      case "*": {
        const all = document.querySelector("[data-select-all]");
        if (all) { all.checked = !all.checked; all.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
      case "A": case "R": case "S": {
        const button = document.querySelector(`#bulk [data-bulk="${e.key}"]`);
        if (button) button.click(); else handled = false;
        break;
      }
      default: {
        if (!current || current.classList.contains("gone")) {
          if ("arsbduehtx".includes(e.key) && live().length) move(0);
        }
        handled = current ? itemKey(current, e.key) : false;
      }
    }
    if (handled) e.preventDefault();
  });

  // --- live counts -------------------------------------------------------------------------

  async function poll() {
    if (document.hidden || !document.querySelector("[data-count]")) return;
    let counts;
    try { counts = await api("GET", "/counts"); } catch (_) { return; }
    document.querySelectorAll("[data-count]").forEach((el) => {
      const n = counts[el.dataset.count];
      if (n === undefined) return;
      el.textContent = el.classList.contains("badge") && !n ? "" : String(n);
    });
    document.title = (counts.pending ? `(${counts.pending}) ` : "") + baseTitle;
    const queue = list && list.dataset.queue;
    if (queue === "pending" || queue === "flagged") {
      if (baseline === null) baseline = counts[queue];
      else if (counts[queue] > baseline && banner) {
        banner.hidden = false;
        baseline = counts[queue];
        announce("New comments are waiting. Press . to load them.");
      }
    }
  }

  // --- start -------------------------------------------------------------------------------

  const remembered = sessionStorage.getItem("townhall:focus");
  sessionStorage.removeItem("townhall:focus");
  const first = (remembered && document.getElementById("c" + remembered)) || null;
  if (first) focusItem(first);
  else if (inQueue && live().length) focusItem(live()[0]);
  updateSelected();
  poll();
  setInterval(poll, 10000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
})();
