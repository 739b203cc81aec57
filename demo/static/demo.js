// Demo controls: switch faults and clear the mutation log through the JSON test hooks.
(function () {
  "use strict";
  var errorBox = document.getElementById("demo-error");

  function call(method, url) {
    return fetch(url, { method: method }).then(function (response) {
      if (response.ok) {
        window.location.reload();
        return;
      }
      return response.json().then(function (body) {
        errorBox.textContent = body.detail || response.status + " " + response.statusText;
        errorBox.hidden = false;
      });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-reset")) {
      call("DELETE", "/__demo/faults");
    } else if (button.hasAttribute("data-clear-mutations")) {
      call("DELETE", "/__demo/mutations");
    } else if (button.dataset.fault) {
      var url = "/__demo/faults/" + encodeURIComponent(button.dataset.fault);
      if (button.hasAttribute("data-off")) {
        call("DELETE", url);
        return;
      }
      if (button.dataset.param) {
        var value = document.getElementById(button.dataset.input).value;
        url += "?" + button.dataset.param + "=" + encodeURIComponent(value);
      }
      call("PUT", url);
    }
  });
})();
