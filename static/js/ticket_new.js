// The client picker of the new-ticket form (templates/tickets/_client_picker.html): picking a
// search result fills the hidden client field, shows the client with its badge, offers the
// priority surcharge to transactional clients only, and reloads the contact list.
(function () {
  "use strict";

  function byId(id) {
    return document.getElementById(id);
  }

  function pick(result) {
    const onContract = result.dataset.onContract === "1";
    byId("id_client").value = result.dataset.clientId;
    const picked = byId("client-picked-name");
    picked.textContent = result.dataset.clientName;
    picked.href = result.dataset.clientUrl;
    // The result's own badge, as templates/tickets/_badge.html rendered it: no colours here.
    byId("client-picked-tier").replaceChildren(result.querySelector(".badge").cloneNode(true));
    byId("paid-priority-box").classList.toggle("d-none", onContract);
    byId("client-picked").classList.remove("d-none");
    byId("client-search").classList.add("d-none");
    byId("client-results").replaceChildren();
    htmx.trigger(byId("id_contact"), "client-picked");
    // The result that had the focus is gone: go on to the next field.
    byId("id_contact").focus();
  }

  function change() {
    byId("client-picked").classList.add("d-none");
    const search = byId("client-search");
    search.classList.remove("d-none");
    search.focus();
  }

  document.addEventListener("click", function (event) {
    const result = event.target.closest("[data-client-id]");
    if (result) {
      pick(result);
    } else if (event.target.closest("#client-change")) {
      change();
    }
  });
})();
