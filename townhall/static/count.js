/*! townhall count.js: fills every [data-townhall-count] element (value = thread key, or the
 * pathname of the element's href when empty) with "N Comments", in one batched request.
 *   <script src="https://COMMENTS-HOST/count.js" data-townhall-site="KEY" async></script>
 * Optional data-townhall-lang (en, de, fr). Call window.townhallCount() after adding elements.
 * MIT licence. Plain ES2020, no build step. */
(() => {
  'use strict';
  const script = document.currentScript || document.querySelector('script[src*="count.js"]');
  if (!script) return;
  const WORDS = {en: ['Comment', 'Comments'], de: ['Kommentar', 'Kommentare'],
    fr: ['commentaire', 'commentaires']};
  const lang = [script.dataset.townhallLang, ...(navigator.languages || [navigator.language])]
    .map((l) => String(l || '').slice(0, 2).toLowerCase()).find((l) => WORDS[l]) || 'en';
  const plural = new Intl.PluralRules(lang);
  const number = new Intl.NumberFormat(lang);
  const keyOf = (el) => el.getAttribute('data-townhall-count') ||
    (el.closest('a[href]') ? new URL(el.closest('a[href]').href).pathname : '');

  async function run() {
    const els = [...document.querySelectorAll('[data-townhall-count]')];
    const keys = [...new Set(els.map(keyOf).filter(Boolean))];
    for (let i = 0; i < keys.length; i += 100) { // the API takes 100 threads per request
      try {
        const res = await fetch(new URL(script.src).origin + '/api/v1/counts', {
          method: 'POST', mode: 'cors', credentials: 'omit',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({site: script.dataset.townhallSite, threads: keys.slice(i, i + 100)}),
        });
        if (!res.ok) return;
        const {counts} = await res.json();
        for (const el of els) {
          const n = counts[keyOf(el)];
          if (typeof n === 'number') {
            el.textContent = number.format(n) + ' ' + WORDS[lang][plural.select(n) === 'one' ? 0 : 1];
          }
        }
      } catch { return; } // counts are decoration: leave the page's own text
    }
  }
  window.townhallCount = run;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
  else run();
})();
