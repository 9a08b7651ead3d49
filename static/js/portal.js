// Live character count under textareas that carry data-counter (the request's
// justification). The page works without it: the hint states the limits.
document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
  var hint = document.getElementById(area.id + "-hint");
  if (!hint) { return; }
  var count = document.createElement("span");
  hint.appendChild(document.createTextNode(" "));
  hint.appendChild(count);
  function update() {
    count.textContent = area.dataset.counter.replace("{count}", area.value.trim().length);
  }
  area.addEventListener("input", update);
  update();
});
