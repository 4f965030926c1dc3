// The import run's page while the import waits or is being applied: asks the hub how far it is
// every two seconds and shows it; reloads the page once the import is done or has failed, so
// that the page shows its outcome. Without JavaScript a <noscript> refresh does the same.
(function () {
  "use strict";
  var box = document.querySelector(".regie-import-progress[data-progress-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var text = document.getElementById("import-progress-text");
  var bar = document.getElementById("import-progress");
  var shown = box.getAttribute("data-status");

  function show(progress) {
    if (!progress.busy || progress.status !== shown) {
      window.location.reload();
      return;
    }
    if (text.textContent !== progress.text) {
      text.textContent = progress.text;
    }
    if (progress.total && !progress.writing) {
      bar.max = progress.total;
      bar.value = progress.done;
    } else {
      bar.removeAttribute("value");
    }
    bar.textContent = progress.text;
    window.setTimeout(poll, 2000);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(show)
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 2000);
})();
