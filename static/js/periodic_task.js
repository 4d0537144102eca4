// The periodic task form in the admin (django-celery-beat): says the chosen crontab in words
// under the crontab field. django-celery-beat does this with an inline script, which the app's
// Content-Security-Policy refuses (templates/admin/djcelery/change_periodictask_form.html).
"use strict";
(() => {
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  if (!data || !select || !help) return;
  const readable = JSON.parse(data.textContent);
  const original = help.textContent;
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) translation.style.display = "none";
  const update = () => {
    help.textContent = original;
    const words = readable[select.value];
    if (words) help.append(document.createElement("br"), `Translation: ${words}`);
  };
  select.addEventListener("change", update);
  update();
})();
