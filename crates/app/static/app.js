// Hongshu's small enhancements. Every page works without them.
"use strict";

// Live character counters: <textarea data-counter="id-of-output" maxlength="N">.
function attachCounters() {
  for (const field of document.querySelectorAll("[data-counter]")) {
    const output = document.getElementById(field.dataset.counter);
    if (!output) continue;
    const update = () => { output.textContent = `${[...field.value].length} / ${field.maxLength}`; };
    field.addEventListener("input", update);
    update();
  }
}

document.addEventListener("DOMContentLoaded", attachCounters);
