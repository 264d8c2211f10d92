// Hongshu's small enhancements. Every page reads without them; posting photos needs them.
"use strict";

// Live character counters: <input|textarea data-counter="id-of-output" maxlength="N">.
function attachCounters() {
  for (const field of document.querySelectorAll("[data-counter]")) {
    const output = document.getElementById(field.dataset.counter);
    if (!output) continue;
    const update = () => { output.textContent = `${[...field.value].length} / ${field.maxLength}`; };
    field.addEventListener("input", update);
    update();
  }
}

// Like, collect and follow without reloading: <form data-toggle data-api data-on>.
function attachToggles() {
  for (const form of document.querySelectorAll("form[data-toggle]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const on = form.dataset.on === "true";
      const response = await fetch(form.dataset.api, { method: on ? "DELETE" : "PUT", credentials: "same-origin" });
      if (!response.ok) { form.submit(); return; }
      form.dataset.on = String(!on);
      const button = form.querySelector("button");
      button.textContent = on ? button.dataset.labelOff : button.dataset.labelOn;
      button.classList.toggle("on", !on);
      button.classList.toggle("ghost", !on && form.dataset.toggle === "follow");
      const count = form.querySelector(".count");
      if (count && response.headers.get("content-type")?.includes("json")) {
        count.textContent = (await response.json()).count;
      }
    });
  }
}

// The cart prices shipping again when another address is chosen: <input data-reprice="url">.
function attachRepricing() {
  for (const input of document.querySelectorAll("input[data-reprice]")) {
    input.addEventListener("change", () => { if (input.checked) window.location.assign(input.dataset.reprice); });
  }
}

// Asks before a destructive form is sent: <form data-confirm="question">.
function attachConfirms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
  }
}

// Photo pickers (the composer, the product form, review forms): upload each chosen file
// through the API, then order and remove the previews; the hidden field holds the ids in order.
function attachMediaPickers() {
  for (const picker of document.querySelectorAll("[data-media-picker]")) attachMediaPicker(picker);
}

function attachMediaPicker(picker) {
  const input = picker.querySelector("input[type=file]");
  const list = picker.querySelector(".previews");
  const ids = picker.querySelector("input[name=media_ids]");
  const status = picker.querySelector(".upload-status");
  const sync = () => {
    ids.value = [...list.children].map((li) => li.dataset.id).join(",");
  };
  const tool = (label, action) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.className = "ghost";
    button.addEventListener("click", action);
    return button;
  };
  const decorate = (li) => {
    const tools = document.createElement("div");
    tools.className = "tools";
    tools.append(
      tool("↑", () => { if (li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling); sync(); }),
      tool("↓", () => { if (li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li); sync(); }),
      tool("✕", () => { li.remove(); sync(); }),
    );
    tools.querySelectorAll("button")[0].setAttribute("aria-label", list.dataset.labelUp);
    tools.querySelectorAll("button")[1].setAttribute("aria-label", list.dataset.labelDown);
    tools.querySelectorAll("button")[2].setAttribute("aria-label", list.dataset.labelRemove);
    li.append(tools);
  };
  [...list.children].forEach(decorate);
  input.addEventListener("change", async () => {
    for (const file of input.files) {
      status.textContent = status.dataset.uploading;
      const body = new FormData();
      body.append("file", file);
      const response = await fetch("/api/v1/media", { method: "POST", body, credentials: "same-origin" });
      const answer = await response.json();
      if (!response.ok) {
        status.textContent = answer.errors?.[0]?.detail ? `${file.name}: ${answer.errors[0].detail}` : answer.detail;
        continue;
      }
      const li = document.createElement("li");
      li.dataset.id = answer.id;
      const img = document.createElement("img");
      img.src = answer.card_url || answer.url;
      img.alt = file.name;
      li.append(img);
      decorate(li);
      list.append(li);
      sync();
      status.textContent = "";
    }
    input.value = "";
  });
}

// The composer's topic chips add a topic to the body.
function attachTopicChips() {
  for (const chip of document.querySelectorAll("[data-topic]")) {
    chip.addEventListener("click", () => {
      const body = document.getElementById("body");
      body.value = `${body.value}${body.value && !body.value.endsWith(" ") ? " " : ""}#${chip.dataset.topic} `;
      body.dispatchEvent(new Event("input"));
      body.focus();
    });
  }
}

// Suggestions while typing in a search box with a <datalist>: topics and popular searches.
function attachSuggestions() {
  for (const box of document.querySelectorAll("input[type=search][list]")) {
    const list = document.getElementById(box.getAttribute("list"));
    let last = "";
    box.addEventListener("input", async () => {
      const text = box.value.trim();
      if (!text || text === last) return;
      last = text;
      const response = await fetch(`/api/v1/search/suggest?q=${encodeURIComponent(text)}`);
      if (!response.ok || box.value.trim() !== text) return;
      list.replaceChildren(...(await response.json()).map((value) => Object.assign(document.createElement("option"), { value })));
    });
  }
}

// Card grids (the feed, search results): more cards as the reader nears the end, each going
// to the shortest column.
function attachGrid() {
  const grid = document.querySelector("[data-grid]");
  if (!grid) return;
  const arrived = grid.hasAttribute("data-feed") ? reportCards() : () => {};
  const columns = waterfall(grid);
  arrived([...grid.querySelectorAll("[data-note]")]);
  const more = new IntersectionObserver(async (entries) => {
    const link = entries.find((e) => e.isIntersecting)?.target;
    if (!link || link.dataset.loading) return;
    link.dataset.loading = "1";
    const page = new DOMParser().parseFromString(await (await fetch(link.href)).text(), "text/html");
    // A search page shifts when the index changes between pages: a card already shown is
    // not shown twice.
    const shown = new Set([...grid.querySelectorAll(".note-card")].map((card) => card.href));
    const cards = [...page.querySelectorAll("[data-grid] > .note-card")].filter((card) => !shown.has(card.href));
    cards.forEach((card) => columns.place(card));
    paintPlaceholders(grid);
    arrived(cards.filter((card) => card.dataset.note));
    const next = page.querySelector("[data-more]");
    if (!next) { more.disconnect(); link.remove(); return; }
    link.href = next.href;
    delete link.dataset.loading;
    // Observing afresh reports at once whether the link is still in reach (a short page).
    more.unobserve(link);
    more.observe(link);
  }, { rootMargin: "800px" });
  const link = document.querySelector("[data-more]");
  if (link) more.observe(link);
}

// The feed's cards a reader was shown and opened, reported in batches (signed-in readers
// only; the server ignores the rest). Returns what to call with cards as they arrive.
function reportCards() {
  let pending = [];
  const report = () => {
    if (pending.length === 0) return;
    const events = pending.splice(0, 500);
    fetch("/api/v1/feed/events", {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "content-type": "application/json" }, body: JSON.stringify({ events }),
    }).catch(() => {});
  };
  const shown = new IntersectionObserver((entries) => {
    for (const entry of entries.filter((e) => e.isIntersecting)) {
      shown.unobserve(entry.target);
      pending.push({ note_id: entry.target.dataset.note, kind: "impression" });
    }
  }, { threshold: 0.5 });
  setInterval(report, 5000);
  document.addEventListener("visibilitychange", report);
  return (cards) => cards.forEach((card) => {
    shown.observe(card);
    card.addEventListener("click", () => { pending.push({ note_id: card.dataset.note, kind: "read" }); report(); });
  });
}

// Placeholder colours while images load. Set from data-color by script: the page's
// Content-Security-Policy refuses inline style attributes.
function paintPlaceholders(root) {
  root.querySelectorAll("[data-color]").forEach((element) => {
    element.style.backgroundColor = element.dataset.color;
    delete element.dataset.color;
  });
}

// The waterfall as columns of its own: each card goes to the shortest column when it arrives,
// and cards already shown never move when more load (CSS columns would rebalance them all).
// Without script, CSS columns lay the cards out.
function waterfall(grid) {
  const count = getComputedStyle(grid).columnCount | 0 || 2;
  const cards = [...grid.children];
  const columns = Array.from({ length: count }, () => {
    const column = document.createElement("div");
    column.className = "waterfall-column";
    return column;
  });
  grid.classList.add("columns");
  grid.replaceChildren(...columns);
  const place = (card) => {
    const shortest = columns.reduce((a, b) => (b.offsetHeight < a.offsetHeight ? b : a));
    shortest.append(card);
  };
  cards.forEach(place);
  return { place };
}

// The note's photos: arrows for a mouse, dots that follow the photo in view.
function attachCarousels() {
  document.querySelectorAll("[data-carousel]").forEach((carousel) => {
    const frame = carousel.parentElement;
    const dots = [...frame.querySelectorAll(".dots a")];
    const arrows = [...frame.querySelectorAll(".carousel-arrow")];
    if (dots.length < 2) return;
    const current = () => Math.round(carousel.scrollLeft / carousel.clientWidth);
    const show = (index) => {
      const bounded = Math.max(0, Math.min(dots.length - 1, index));
      carousel.scrollTo({ left: bounded * carousel.clientWidth, behavior: "smooth" });
    };
    const mark = () => {
      const index = current();
      dots.forEach((dot, i) => {
        if (i === index) dot.setAttribute("aria-current", "true");
        else dot.removeAttribute("aria-current");
      });
      arrows.forEach((arrow) => {
        const step = Number(arrow.dataset.step);
        arrow.disabled = index + step < 0 || index + step >= dots.length;
      });
    };
    arrows.forEach((arrow) => {
      arrow.hidden = false;
      arrow.addEventListener("click", () => show(current() + Number(arrow.dataset.step)));
    });
    dots.forEach((dot, i) => dot.addEventListener("click", (event) => { event.preventDefault(); show(i); }));
    carousel.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") show(current() + 1);
      if (event.key === "ArrowLeft") show(current() - 1);
    });
    carousel.addEventListener("scroll", mark, { passive: true });
    mark();
  });
}

// Sharing a note: the phone's share sheet where there is one, else the panel with the link and
// its QR code (for WeChat); each share is reported, since the feed counts shares.
function attachShare() {
  const share = document.getElementById("share");
  if (!share) return;
  const report = () => fetch("/api/v1/feed/events", {
    method: "POST", credentials: "same-origin", keepalive: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ events: [{ note_id: share.dataset.note, kind: "share" }] }),
  }).catch(() => {});
  const link = document.getElementById("share-link");
  share.querySelector("summary").addEventListener("click", async (event) => {
    if (share.open || !navigator.share) return;
    event.preventDefault();
    try {
      await navigator.share({ title: share.dataset.title, url: link.value });
      report();
    } catch (e) {
      // Dismissed, or the sheet is refused: the panel offers the link and the QR code instead.
      if (e.name !== "AbortError") share.open = true;
    }
  });
  share.addEventListener("toggle", () => { if (share.open) report(); });
  const copy = document.getElementById("copy-link");
  copy.addEventListener("click", async () => {
    link.select();
    try { await navigator.clipboard.writeText(link.value); } catch { document.execCommand("copy"); }
    copy.textContent = share.dataset.copied;
    report();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  paintPlaceholders(document);
  attachCarousels();
  attachCounters();
  attachToggles();
  attachConfirms();
  attachMediaPickers();
  attachRepricing();
  attachTopicChips();
  attachSuggestions();
  attachGrid();
  attachShare();
});
