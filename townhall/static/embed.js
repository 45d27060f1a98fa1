/*! townhall embed.js: comments for news sites. MIT licence.
 * This file is what runs: plain ES2020, no build step (issue 3).
 *
 *   <div id="townhall-thread"></div>
 *   <script src="https://COMMENTS-HOST/embed.js" data-townhall-site="KEY" async></script>
 *
 * Optional attributes on the script tag: data-townhall-thread (else the canonical URL path),
 * data-townhall-title (else document.title), data-townhall-lang (en, de, fr; else the
 * browser's languages), data-townhall-theme (light | dark | auto), data-townhall-page-size
 * (top-level comments per page, 1-100; else the server's default).
 * Styling hooks: see the custom properties documented at the top of CSS below.
 */
(() => {
  'use strict';

  // Must be read synchronously: currentScript is null once this first run is over.
  const script = document.currentScript ||
    document.querySelector('script[data-townhall-site][src*="embed"]');
  if (!script) return;
  const ds = script.dataset;
  const API = new URL(script.src, location.href).origin + '/api/v1';
  const SITE = ds.townhallSite || '';
  const PAGE_SIZE = Math.min(100, parseInt(ds.townhallPageSize, 10) || 0);
  const MAX_LEVEL = 3; // four visual levels (0..3); deeper replies are flattened with "replying to"
  const PREFIX = 'townhall:';

  /* ------------------------------------------------------------------ styles */

  const CSS = `
/* Custom properties a publisher can set on #townhall-thread (or any ancestor):
 *   --townhall-font          font family             (system UI fonts)
 *   --townhall-font-size     base font size          (16px)
 *   --townhall-text          text colour             (#1f2328 / dark #e6e8eb)
 *   --townhall-muted         secondary text          (#57606a / #a3acb9)
 *   --townhall-bg            widget background       (transparent; #16181d when dark
 *                            is forced on a page that is not dark)
 *   --townhall-surface       fields and code         (#fff / #1e2128)
 *   --townhall-border        lines                   (#d0d7de / #3d444d)
 *   --townhall-field-border  form field borders      (#808a94 / #768390)
 *   --townhall-accent        links, buttons, focus   (#0a58b8 / #7db4ff)
 *   --townhall-accent-text   text on accent buttons  (#fff / #0b1a2e)
 *   --townhall-danger        errors                  (#b3261e / #ff8a80)
 *   --townhall-radius        corner radius           (6px)
 *   --townhall-indent        indent per reply level  (1.25em)
 * The container gets data-townhall-scheme="light" or "dark", so values for one scheme go e.g.
 *   #townhall-thread[data-townhall-scheme=dark] { --townhall-accent: #f0a; }
 */
:host{display:block!important}
.th{all:initial;display:block;box-sizing:border-box;container-type:inline-size;
--fg:var(--townhall-text,#1f2328);--mut:var(--townhall-muted,#57606a);--bg:var(--townhall-bg,transparent);
--sf:var(--townhall-surface,#fff);--bd:var(--townhall-border,#d0d7de);--fb:var(--townhall-field-border,#808a94);
--ac:var(--townhall-accent,#0a58b8);--at:var(--townhall-accent-text,#fff);--er:var(--townhall-danger,#b3261e);
--r:var(--townhall-radius,6px);--in:var(--townhall-indent,1.25em);
font:400 var(--townhall-font-size,16px)/1.55 var(--townhall-font,system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif);
color:var(--fg);background:var(--bg);padding:1em 0;color-scheme:light;overflow-wrap:anywhere;text-align:start}
.th.dark{--fg:var(--townhall-text,#e6e8eb);--mut:var(--townhall-muted,#a3acb9);
--sf:var(--townhall-surface,#1e2128);--bd:var(--townhall-border,#3d444d);--fb:var(--townhall-field-border,#768390);
--ac:var(--townhall-accent,#7db4ff);--at:var(--townhall-accent-text,#0b1a2e);--er:var(--townhall-danger,#ff8a80);
color-scheme:dark}
.th.boxed{--bg:var(--townhall-bg,#16181d);padding:1em}
*,::before,::after{box-sizing:border-box}
[hidden]{display:none!important}
h2{font-size:1.45em;line-height:1.2;margin:0 0 .7em;font-weight:700}
p{margin:0}
a{color:var(--ac)}
ol{list-style:none;margin:0;padding:0}
:focus-visible{outline:2px solid var(--ac);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
/* off-screen discussions skip layout and paint; the items' padding keeps focus rings inside
   the paint containment that content-visibility brings */
.list{margin-inline:-.5em}
.list>li{content-visibility:auto;contain-intrinsic-size:auto 12em;padding-inline:.5em}
.list>li+li{border-top:1px solid var(--bd)}
.replies{margin-inline-start:var(--in);padding-inline-start:.9em;border-inline-start:2px solid var(--bd)}
@container (max-width:30em){.replies{margin-inline-start:.2em;padding-inline-start:.6em}}
.c{padding:.8em 0 .6em;border-radius:var(--r)}
.meta{display:flex;flex-wrap:wrap;gap:0 .6em;align-items:baseline;font-size:.875em;color:var(--mut)}
.meta a{color:inherit;text-decoration:none}.meta a:hover{text-decoration:underline}
.meta .who,.meta a.who{font-size:1.07em;font-weight:700;color:var(--fg)}
a.who{text-decoration:underline;text-decoration-color:var(--bd)}
.body{margin:.3em 0 0}.body>*{margin:.55em 0}.body>:first-child{margin-top:0}.body>:last-child{margin-bottom:0}
.body blockquote{padding-inline-start:.8em;border-inline-start:3px solid var(--bd);color:var(--mut);margin-inline:0}
.body pre,.body code{font:.9em/1.4 ui-monospace,Menlo,Consolas,monospace;background:var(--sf);border-radius:4px}
.body code{padding:.1em .3em}.body pre{padding:.6em;overflow:auto;border:1px solid var(--bd)}
.body img{max-width:100%;height:auto}.body ul,.body ol{padding-inline-start:1.4em;list-style:revert}
.editing>.c>.body{display:none}
.tomb{font-style:italic;color:var(--mut)}
.note{display:inline-block;margin-top:.35em;padding:0 .6em;font-size:.8em;border:1px solid var(--fb);border-radius:99px;color:var(--mut)}
.acts{display:flex;flex-wrap:wrap;gap:.15em .35em;margin:.3em 0 0 -.4em}
button{font:inherit;color:inherit;cursor:pointer;border-radius:var(--r);min-height:24px;min-width:24px}
button[aria-disabled=true]{cursor:progress;opacity:.7}
.acts button,.more{background:none;border:0;padding:.15em .4em;color:var(--mut);font-size:.875em}
.acts button:hover,.more:hover{color:var(--fg);text-decoration:underline}
.vote[aria-pressed=true]{color:var(--ac);font-weight:700}
.more{color:var(--ac);font-weight:600;margin:.2em 0 .6em}
.form{display:grid;gap:.6em;margin:.4em 0 1.2em}
li .form,li .box{margin:.2em 0 .8em}
label,legend{display:block;font-weight:600;font-size:.9em;margin-bottom:.2em}
textarea,input,select{font:inherit;color:var(--fg);background:var(--sf);border:1px solid var(--fb);border-radius:var(--r);padding:.45em .6em;width:100%;margin:0}
textarea{min-height:6.5em;resize:vertical;display:block}
input[type=radio]{width:auto;margin:0}
[aria-invalid=true]{border-color:var(--er);box-shadow:0 0 0 1px var(--er)}
.fields{display:grid;grid-template-columns:repeat(auto-fit,minmax(12em,1fr));gap:.6em}
.hint{font-size:.8em;color:var(--mut)}
.preview{border:1px dashed var(--fb);border-radius:var(--r);padding:.45em .7em;min-height:6.5em}
.btns{display:flex;flex-wrap:wrap;gap:.5em;align-items:center}
.btn{border:1px solid var(--fb);background:var(--sf);padding:.4em .9em;font-weight:600}
.btn[aria-pressed=true]{background:var(--bd)}
.pri{background:var(--ac);border-color:var(--ac);color:var(--at)}
.err{color:var(--er);font-size:.875em;margin-top:.25em}
.box{border:1px solid var(--bd);border-radius:var(--r);padding:.6em .8em;display:grid;gap:.5em;margin:0}
.alert{border-color:var(--er)}
fieldset.box{min-width:0}
.radio{display:flex;gap:.5em;align-items:center;font-weight:400;margin:0}
.bar{display:flex;justify-content:flex-end;align-items:center;gap:.5em;margin:0 0 .3em}
.bar label{margin:0}.bar select{width:auto;padding:.2em .4em}
.status{color:var(--mut);margin:.5em 0}
.loadmore{display:block;width:100%;margin-top:1em;padding:.6em}
.new>.c{animation:hi 4s ease-out}
@keyframes hi{from{background:color-mix(in srgb,var(--ac) 12%,transparent)}}
@media (prefers-reduced-motion:reduce){.new>.c{animation:none}}
`;

  /* ------------------------------------------------------------------ strings */

  // Plurals go through Intl.PluralRules; {n} is formatted with Intl.NumberFormat.
  const STRINGS = {
    en: {
      comments: {one: '{n} Comment', other: '{n} Comments'}, commentsNone: 'Comments',
      loading: 'Loading comments…', loadFailed: 'The comments could not be loaded.', retry: 'Try again',
      empty: 'No comments yet. Start the discussion!', closed: 'Comments are closed.',
      yourComment: 'Your comment', replyTo: 'Your reply to {name}', name: 'Name',
      email: 'Email (optional, never shown)', website: 'Website (optional)',
      notify: 'Email me replies',
      hint: 'Markdown: *italic*, **bold**, [link](https://…), > quote. Ctrl+Enter posts.',
      premod: 'Comments are reviewed before they appear.',
      preview: 'Preview', post: 'Post comment', postReply: 'Post reply', cancel: 'Cancel',
      save: 'Save', reply: 'Reply', edit: 'Edit', del: 'Delete', flag: 'Report', flagged: 'Reported',
      like: 'Like', dislike: 'Dislike', edited: 'edited', pending: 'Awaiting moderation',
      deleted: 'This comment was deleted.', removed: 'Removed by a moderator.',
      by: 'Comment by {name}', anon: 'Anonymous', replyingTo: 'replying to {name}',
      aDeleted: 'a deleted comment', sortBy: 'Sort by', oldest: 'Oldest', newest: 'Newest', top: 'Top',
      more: 'Load more comments', moreReplies: {one: 'Show {n} more reply', other: 'Show {n} more replies'},
      published: 'Your comment was published.', held: 'Your comment is awaiting moderation.',
      updated: 'Your comment was updated.', removedOk: 'Your comment was deleted.',
      newComments: {one: '{n} new comment', other: '{n} new comments'},
      editMine: 'Edit my comment', postAnyway: 'Post anyway', needText: 'Please write a comment first.',
      delQ: 'Delete this comment?', delYes: 'Yes, delete', flagQ: 'Why should a moderator look at this?',
      spam: 'Spam or advertising', abuse: 'Abusive or hateful', off_topic: 'Off topic', other: 'Something else',
      flagNote: 'Note for the moderators (optional)', flagSend: 'Send report',
      flagThanks: 'Thank you. A moderator will take a look.', error: 'Something went wrong. Please try again.',
      offline: 'The comment server could not be reached. Please try again.',
    },
    de: {
      comments: {one: '{n} Kommentar', other: '{n} Kommentare'}, commentsNone: 'Kommentare',
      loading: 'Kommentare werden geladen …', loadFailed: 'Die Kommentare konnten nicht geladen werden.',
      retry: 'Erneut versuchen', empty: 'Noch keine Kommentare. Beginnen Sie die Diskussion!',
      closed: 'Die Kommentarfunktion ist geschlossen.', yourComment: 'Ihr Kommentar',
      replyTo: 'Ihre Antwort an {name}', name: 'Name', email: 'E-Mail (optional, wird nie angezeigt)',
      notify: 'Antworten per E-Mail',
      website: 'Website (optional)',
      hint: 'Markdown: *kursiv*, **fett**, [Link](https://…), > Zitat. Strg+Enter sendet.',
      premod: 'Kommentare werden vor der Veröffentlichung geprüft.',
      preview: 'Vorschau', post: 'Kommentar senden', postReply: 'Antwort senden', cancel: 'Abbrechen',
      save: 'Speichern', reply: 'Antworten', edit: 'Bearbeiten', del: 'Löschen', flag: 'Melden',
      flagged: 'Gemeldet', like: 'Gefällt mir', dislike: 'Gefällt mir nicht', edited: 'bearbeitet',
      pending: 'Wartet auf Freigabe', deleted: 'Dieser Kommentar wurde gelöscht.',
      removed: 'Von der Moderation entfernt.', by: 'Kommentar von {name}', anon: 'Anonym',
      replyingTo: 'Antwort an {name}', aDeleted: 'einen gelöschten Kommentar', sortBy: 'Sortieren nach',
      oldest: 'Älteste', newest: 'Neueste', top: 'Beste', more: 'Weitere Kommentare laden',
      moreReplies: {one: '{n} weitere Antwort anzeigen', other: '{n} weitere Antworten anzeigen'},
      published: 'Ihr Kommentar wurde veröffentlicht.', held: 'Ihr Kommentar wartet auf Freigabe.',
      updated: 'Ihr Kommentar wurde geändert.', removedOk: 'Ihr Kommentar wurde gelöscht.',
      newComments: {one: '{n} neuer Kommentar', other: '{n} neue Kommentare'},
      editMine: 'Kommentar überarbeiten', postAnyway: 'Trotzdem senden',
      needText: 'Bitte schreiben Sie zuerst einen Kommentar.', delQ: 'Diesen Kommentar löschen?',
      delYes: 'Ja, löschen', flagQ: 'Warum sollte sich die Moderation das ansehen?',
      spam: 'Spam oder Werbung', abuse: 'Beleidigend oder hasserfüllt', off_topic: 'Am Thema vorbei',
      other: 'Etwas anderes', flagNote: 'Hinweis für die Moderation (optional)', flagSend: 'Meldung senden',
      flagThanks: 'Danke. Die Moderation sieht sich das an.',
      error: 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
      offline: 'Der Kommentar-Server ist nicht erreichbar. Bitte versuchen Sie es erneut.',
    },
    fr: {
      comments: {one: '{n} commentaire', other: '{n} commentaires'}, commentsNone: 'Commentaires',
      loading: 'Chargement des commentaires…', loadFailed: 'Impossible de charger les commentaires.',
      retry: 'Réessayer', empty: 'Aucun commentaire pour l’instant. Lancez la discussion !',
      closed: 'Les commentaires sont fermés.', yourComment: 'Votre commentaire',
      replyTo: 'Votre réponse à {name}', name: 'Nom', email: 'E-mail (facultatif, jamais affiché)',
      notify: 'Réponses par e-mail',
      website: 'Site web (facultatif)',
      hint: 'Markdown : *italique*, **gras**, [lien](https://…), > citation. Ctrl+Entrée publie.',
      premod: 'Les commentaires sont relus avant publication.',
      preview: 'Aperçu', post: 'Publier', postReply: 'Répondre', cancel: 'Annuler', save: 'Enregistrer',
      reply: 'Répondre', edit: 'Modifier', del: 'Supprimer', flag: 'Signaler', flagged: 'Signalé',
      like: 'J’aime', dislike: 'Je n’aime pas', edited: 'modifié', pending: 'En attente de modération',
      deleted: 'Ce commentaire a été supprimé.', removed: 'Supprimé par un modérateur.',
      by: 'Commentaire de {name}', anon: 'Anonyme', replyingTo: 'en réponse à {name}',
      aDeleted: 'un commentaire supprimé', sortBy: 'Trier par', oldest: 'Plus anciens',
      newest: 'Plus récents', top: 'Meilleurs', more: 'Charger plus de commentaires',
      moreReplies: {one: 'Afficher {n} autre réponse', other: 'Afficher {n} autres réponses'},
      published: 'Votre commentaire a été publié.', held: 'Votre commentaire est en attente de modération.',
      updated: 'Votre commentaire a été modifié.', removedOk: 'Votre commentaire a été supprimé.',
      newComments: {one: '{n} nouveau commentaire', other: '{n} nouveaux commentaires'},
      editMine: 'Modifier mon commentaire', postAnyway: 'Publier quand même',
      needText: 'Veuillez d’abord écrire un commentaire.', delQ: 'Supprimer ce commentaire ?',
      delYes: 'Oui, supprimer', flagQ: 'Pourquoi un modérateur devrait-il examiner ceci ?',
      spam: 'Spam ou publicité', abuse: 'Insultant ou haineux', off_topic: 'Hors sujet',
      other: 'Autre chose', flagNote: 'Remarque pour les modérateurs (facultatif)',
      flagSend: 'Envoyer le signalement', flagThanks: 'Merci. Un modérateur va examiner ce commentaire.',
      error: 'Une erreur est survenue. Veuillez réessayer.',
      offline: 'Le serveur de commentaires est injoignable. Veuillez réessayer.',
    },
  };
  const LANG = [ds.townhallLang, ...(navigator.languages || [navigator.language])]
    .map((l) => String(l || '').slice(0, 2).toLowerCase()).find((l) => STRINGS[l]) || 'en';
  const plurals = new Intl.PluralRules(LANG);
  const numbers = new Intl.NumberFormat(LANG);
  const absolute = new Intl.DateTimeFormat(LANG, {dateStyle: 'long', timeStyle: 'short'});
  const relative = new Intl.RelativeTimeFormat(LANG, {numeric: 'auto'});
  const UNITS = [['year', 31536e3], ['month', 2592e3], ['week', 604800], ['day', 86400],
    ['hour', 3600], ['minute', 60]];

  function t(key, vars) {
    let s = STRINGS[LANG][key] || STRINGS.en[key];
    if (typeof s === 'object') s = s[plurals.select(vars.n)] || s.other;
    return vars ? s.replace(/\{(\w+)\}/g, (_, k) => (k === 'n' ? numbers.format(vars.n) : vars[k])) : s;
  }

  function ago(iso) {
    const s = Math.min(0, (Date.parse(iso) - Date.now()) / 1000);
    for (const [unit, size] of UNITS) {
      if (-s >= size) return relative.format(Math.trunc(s / size), unit);
    }
    return relative.format(0, 'second');
  }

  /* ------------------------------------------------------------------ storage */

  // localStorage may be unavailable (privacy modes, sandboxed frames): then nothing is remembered.
  const store = {
    get(key) { try { return localStorage.getItem(PREFIX + key); } catch { return null; } },
    set(key, value) {
      try {
        if (value == null) localStorage.removeItem(PREFIX + key);
        else localStorage.setItem(PREFIX + key, value);
      } catch { /* not remembered */ }
    },
    json(key, fallback) { try { return JSON.parse(this.get(key)) ?? fallback; } catch { return fallback; } },
  };
  // Own comments: edit token, time and the Markdown source (the API returns only HTML).
  const own = (id) => store.json('edit:' + id, null);
  const votes = store.json('votes', {});
  const flags = store.json('flags', {});

  /* ------------------------------------------------------------------ server */

  class ApiError extends Error {
    constructor(status, err) {
      super(err.message || t('error'));
      Object.assign(this, {status, code: err.code, field: err.field});
    }
  }

  async function api(method, path, body, headers) {
    const h = {...headers};
    const reader = store.get('reader');
    if (reader) h['X-Townhall-Reader'] = reader;
    if (body) h['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, {method, headers: h, body: body && JSON.stringify(body),
        mode: 'cors', credentials: 'omit', cache: 'no-cache'});
    } catch {
      throw new ApiError(0, {code: 'network', message: t('offline')});
    }
    const data = await res.json().catch(() => ({}));
    if (data.reader_token) store.set('reader', data.reader_token);
    if (!res.ok) throw new ApiError(res.status, data.error || {});
    return {status: res.status, data};
  }

  /* ------------------------------------------------------------------ DOM */

  // Only text nodes and attributes: reader text never reaches innerHTML through here.
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...kids.flat().filter((k) => k != null && k !== false));
    return el;
  }
  let uidCounter = 0;
  const uid = () => 'th' + ++uidCounter;
  const safeUrl = (u) => {
    try { return /^https?:$/.test(new URL(u).protocol) ? u : null; } catch { return null; }
  };
  const dead = (c) => c.status === 'deleted' || c.status === 'removed';
  const nameOf = (c) => (c && !dead(c) ? (c.author || {}).name || t('anon') : t('aDeleted'));

  /* ------------------------------------------------------------------ boot */

  function boot() {
    const host = document.getElementById('townhall-thread');
    if (!host || host.shadowRoot) return; // missing, or embed.js included twice
    const canonical = document.querySelector('link[rel~="canonical"][href]');
    const THREAD = ds.townhallThread ||
      (canonical ? new URL(canonical.href, location.href).pathname : location.pathname);
    const TITLE = ds.townhallTitle || document.title;
    if (!host.style.minHeight) host.style.minHeight = '384px'; // reserve space: no layout shift

    const shadow = host.attachShadow({mode: 'open'});
    try { // a constructed sheet also works under a strict style-src CSP
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      shadow.append(h('style', null, CSS));
    }

    const S = {thread: null, sort: 'oldest', next: null, count: 0, byId: new Map(), fresh: 0};
    const heading = h('h2', {id: 'th-h', tabindex: '-1'}, t('commentsNone'));
    const live = h('div', {class: 'sr', role: 'status', 'aria-live': 'polite'});
    const formSlot = h('div');
    const sortSelect = h('select', {id: 'th-sort'},
      ['oldest', 'newest', 'top'].map((v) => h('option', {value: v}, t(v))));
    const bar = h('div', {class: 'bar', hidden: true}, h('label', {for: 'th-sort'}, t('sortBy')), sortSelect);
    const statusLine = h('p', {class: 'status'}, t('loading'));
    const list = h('ol', {class: 'list', 'aria-labelledby': 'th-h'});
    const loadMore = h('button', {type: 'button', class: 'btn loadmore', hidden: true, 'data-act': 'page'},
      t('more'));
    const root = h('section', {class: 'th', 'aria-labelledby': 'th-h', lang: LANG},
      heading, live, formSlot, bar, statusLine, list, loadMore);
    shadow.append(root);

    /* ---- theme: the attribute, else the page's own background, else prefers-color-scheme */
    const darkQuery = matchMedia('(prefers-color-scheme: dark)');
    function applyTheme() {
      let pageDark = null; // the colour behind the container, when the page paints one
      for (let n = host; n && n.nodeType === 1 && pageDark === null; n = n.parentElement) {
        const m = getComputedStyle(n).backgroundColor.match(/[\d.]+/g);
        if (m && (m.length < 4 || +m[3] > 0.5)) pageDark = 0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2] < 110;
      }
      const theme = ds.townhallTheme;
      const dark = theme === 'dark' || (theme !== 'light' && (pageDark ?? darkQuery.matches));
      root.classList.toggle('dark', dark);
      root.classList.toggle('boxed', dark && !pageDark); // dark text needs its own dark ground
      host.setAttribute('data-townhall-scheme', dark ? 'dark' : 'light');
    }
    applyTheme();
    darkQuery.addEventListener?.('change', applyTheme);
    // Pages with their own dark-mode switch usually flip a class on <html> or <body>.
    for (const el of [document.documentElement, document.body]) {
      new MutationObserver(applyTheme).observe(el, {attributes: true, attributeFilter: ['class', 'style', 'data-theme']});
    }

    let announceTimer;
    function announce(text) {
      live.textContent = '';
      clearTimeout(announceTimer); // re-set after a tick so a repeated message is read again
      announceTimer = setTimeout(() => { live.textContent = text; }, 60);
    }
    function setCount(n) {
      S.count = n;
      heading.textContent = t('comments', {n});
    }
    function showStatus() {
      statusLine.hidden = list.children.length > 0;
      statusLine.textContent = t('empty');
    }

    /* ---- rendering one comment */

    function timeEl(iso) {
      return h('time', {datetime: iso, title: absolute.format(new Date(iso))}, ago(iso));
    }

    function editable(c) {
      const mine = own(c.id);
      const windowMs = (S.thread.edit_window_seconds ?? 900) * 1000;
      return !!mine && !dead(c) && Date.now() - Date.parse(c.created_at) < windowMs;
    }

    function voteButton(act, n, pressed) {
      return h('button', {type: 'button', class: 'vote', 'data-act': act, 'aria-pressed': String(pressed)},
        h('span', {'aria-hidden': 'true'}, act === 'like' ? '▲ ' : '▼ '),
        h('span', {class: 'sr'}, t(act) + ' '), h('span', {class: 'n'}, numbers.format(n)));
    }

    function article(entry) {
      const c = entry.c;
      if (dead(c)) {
        return h('article', {class: 'c', tabindex: '-1', 'aria-label': t(c.status)},
          h('p', {class: 'tomb'}, t(c.status)));
      }
      const site = safeUrl((c.author || {}).website);
      const who = site
        ? h('a', {class: 'who', href: site, rel: 'nofollow ugc noopener'}, nameOf(c))
        : h('span', {class: 'who'}, nameOf(c));
      const meta = h('header', {class: 'meta'}, who,
        h('a', {href: '#townhall-c-' + c.id}, timeEl(c.created_at)),
        c.edited_at && h('span', {title: absolute.format(new Date(c.edited_at))}, t('edited')),
        entry.flatTo && h('span', null, t('replyingTo', {name: nameOf(entry.flatTo.c)})));
      const body = h('div', {class: 'body'});
      body.innerHTML = c.html; // server-rendered and sanitised: the only innerHTML of comment data
      const pending = c.status === 'pending';
      const acts = h('footer', {class: 'acts'});
      if (!pending) {
        const v = votes[c.id] || 0;
        acts.append(voteButton('like', c.likes, v === 1), voteButton('dislike', c.dislikes, v === -1));
        if (!S.thread.closed) acts.append(h('button', {type: 'button', 'data-act': 'reply'}, t('reply')));
      }
      if (editable(c)) {
        acts.append(h('button', {type: 'button', 'data-act': 'edit'}, t('edit')),
          h('button', {type: 'button', 'data-act': 'delete'}, t('del')));
        clearTimeout(entry.closes); // re-render without Edit and Delete when the window shuts
        entry.closes = setTimeout(() => S.byId.get(c.id) === entry && update(entry.c),
          Date.parse(c.created_at) + (S.thread.edit_window_seconds ?? 900) * 1000 - Date.now() + 500);
      } else if (!pending) {
        acts.append(flags[c.id]
          ? h('button', {type: 'button', 'aria-disabled': 'true'}, t('flagged'))
          : h('button', {type: 'button', 'data-act': 'flag'}, t('flag')));
      }
      return h('article', {class: 'c', tabindex: '-1', 'aria-label': t('by', {name: nameOf(c)})},
        meta, body, pending && h('p', {class: 'note'}, t('pending')), acts);
    }

    const descends = (id, ancestorId) => {
      for (let e = S.byId.get(id); e; e = S.byId.get(e.c.parent_id)) {
        if (e.c.parent_id === ancestorId) return true;
      }
      return false;
    };

    // Puts a comment at its depth-first place; `first` puts a top-level comment at the top.
    function add(c, first) {
      if (S.byId.has(c.id)) return update(c);
      const parent = c.parent_id ? S.byId.get(c.parent_id) : null;
      if (c.parent_id && !parent) return null; // its part of the thread is not loaded
      const entry = {c, level: parent ? Math.min(parent.level + 1, MAX_LEVEL) : 0,
        flatTo: parent && parent.level === MAX_LEVEL ? parent : null,
        li: h('li', {'data-id': c.id})};
      S.byId.set(c.id, entry);
      entry.art = article(entry);
      entry.li.append(entry.art);
      if (!parent) {
        list[first ? 'prepend' : 'append'](entry.li);
      } else if (!entry.flatTo) {
        if (!parent.ol) {
          parent.ol = h('ol', {class: 'replies'});
          parent.li.insertBefore(parent.ol, parent.moreBtn || null);
        }
        parent.ol.append(entry.li);
      } else { // flattened: after the parent and what already answers it, at the same indent
        let ref = parent.li.nextElementSibling;
        while (ref && descends(ref.dataset.id, parent.c.id)) ref = ref.nextElementSibling;
        parent.li.parentNode.insertBefore(entry.li, ref);
      }
      if (c.more_replies_cursor) moreRepliesButton(entry, c.more_replies_cursor, c.more_replies);
      return entry;
    }

    function moreRepliesButton(entry, cursor, n) {
      entry.moreBtn?.remove();
      entry.moreBtn = h('button', {type: 'button', class: 'more', 'data-act': 'replies'},
        n > 0 ? t('moreReplies', {n}) : t('more'));
      Object.assign(entry, {cursor, remaining: n});
      entry.li.append(entry.moreBtn);
    }

    // Replaces a comment's article in place, keeping focus on the same control.
    function update(c) {
      const entry = S.byId.get(c.id);
      if (!entry) return null;
      if (dead(c) && !c.reply_count && !entry.ol) return remove(entry);
      entry.c = {...entry.c, ...c};
      const focused = shadow.activeElement;
      const act = focused && entry.art.contains(focused) && (focused.dataset.act || 'article');
      const art = article(entry);
      entry.art.replaceWith(art);
      entry.art = art;
      if (act) (act === 'article' ? art : art.querySelector(`[data-act=${act}]`) || art).focus();
      return entry;
    }

    function remove(entry) {
      S.byId.delete(entry.c.id);
      entry.li.remove();
      showStatus();
      return null;
    }

    /* ---- loading */

    const query = (extra) => '/comments?' + new URLSearchParams({site: SITE, thread: THREAD,
      sort: S.sort, ...(PAGE_SIZE > 0 && {limit: PAGE_SIZE}), ...extra});

    // Renders a page of comments; returns the first newly shown article (for focus).
    function render(comments) {
      let first = null;
      for (const c of comments) {
        const known = S.byId.has(c.id);
        const entry = add(c);
        if (!known && entry && !first) first = entry.art;
      }
      showStatus();
      return first;
    }

    async function start() {
      statusLine.textContent = t('loading');
      statusLine.hidden = false;
      let data;
      try {
        ({data} = await api('GET', query()));
      } catch (err) {
        statusLine.replaceChildren(t('loadFailed') + ' ',
          h('button', {type: 'button', class: 'btn', onclick: start}, t('retry')));
        return;
      }
      S.thread = data.thread;
      setCount(data.thread.count);
      formSlot.replaceChildren(S.thread.closed
        ? h('p', {class: 'status'}, t('closed'))
        : composer(null));
      bar.hidden = false;
      showPage(data);
      focusHash();
      listen();
      setInterval(() => {
        for (const el of root.querySelectorAll('time')) el.textContent = ago(el.getAttribute('datetime'));
      }, 60000);
    }

    function showPage(data) {
      const first = render(data.comments);
      S.next = data.next_cursor;
      loadMore.hidden = !S.next;
      return first;
    }

    async function busy(button, work) {
      if (button.getAttribute('aria-disabled') === 'true') return;
      button.setAttribute('aria-disabled', 'true'); // not `disabled`: that would drop focus
      try { await work(); } finally { button.removeAttribute('aria-disabled'); }
    }

    sortSelect.addEventListener('change', () => busy(sortSelect, async () => {
      S.sort = sortSelect.value;
      try {
        const {data} = await api('GET', query());
        S.byId.clear();
        list.replaceChildren();
        setCount(data.thread.count);
        showPage(data);
      } catch (err) {
        announce(err.message);
      }
    }));

    function focusHash() {
      const m = /^#townhall-c-(.+)$/.exec(location.hash);
      const entry = m && S.byId.get(decodeURIComponent(m[1]));
      if (entry) {
        entry.art.scrollIntoView({block: 'center'});
        entry.art.focus({preventScroll: true});
      }
    }
    addEventListener('hashchange', focusHash);

    /* ---- live updates (SSE) */

    function listen() {
      if (!window.EventSource) return;
      const url = API + '/events?' + new URLSearchParams({site: SITE, thread: THREAD});
      const source = new EventSource(url);
      source.onmessage = (event) => {
        let msg;
        try { msg = JSON.parse(event.data); } catch { return; }
        if (typeof msg.count === 'number') setCount(msg.count);
        if (msg.type === 'comment' && msg.comment) incoming(msg.comment);
        const gone = msg.type === 'remove' && S.byId.get(String(msg.id));
        // The public never saw the reader's own held comment: that is not news to them.
        if (gone && gone.c.status !== 'pending') remove(gone);
      };
      let lost = false;
      source.onerror = () => { // the browser retries by itself unless the server refused
        lost = true;
        if (source.readyState === EventSource.CLOSED) setTimeout(listen, 30000);
      };
      source.onopen = async () => { // back after an outage: catch up on what was missed
        if (!lost) return;
        lost = false;
        try {
          const {data} = await api('GET', query());
          setCount(data.thread.count);
          data.comments.forEach(incoming);
        } catch { /* the next event will do */ }
      };
    }

    let freshTimer;
    function incoming(c) {
      if (S.byId.has(c.id)) return update(c);
      if (dead(c)) return null;
      // A new top-level comment belongs at the end: unless that end is shown, it comes later.
      if (!c.parent_id && S.next && S.sort !== 'newest') return null;
      const entry = add(c, S.sort === 'newest');
      if (!entry) return null;
      entry.li.classList.add('new');
      S.fresh += 1;
      clearTimeout(freshTimer);
      freshTimer = setTimeout(() => { announce(t('newComments', {n: S.fresh})); S.fresh = 0; }, 1500);
      return entry;
    }

    /* ---- forms */

    const FIELDS = {text: 'text', 'author.name': 'name', 'author.email': 'email', 'author.website': 'website'};

    function field(label, input, hint) {
      const err = h('p', {class: 'err', id: input.id + '-err', hidden: true});
      input.setAttribute('aria-describedby', [hint && hint.id, err.id].filter(Boolean).join(' '));
      return h('div', null, h('label', {for: input.id}, label), input, hint, err);
    }

    function clearErrors(form) {
      for (const el of form.querySelectorAll('.err')) el.hidden = true;
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      form.querySelector('.alert')?.remove();
    }

    function fieldError(form, name, message) {
      const input = form.elements[FIELDS[name]];
      if (!input) return formError(form, message);
      const err = shadow.getElementById(input.id + '-err');
      err.textContent = message;
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return null;
    }

    function formError(form, message, ...extra) {
      const box = h('div', {class: 'box alert', role: 'alert'}, h('p', null, message), ...extra);
      form.querySelector('.btns').before(box);
      return box;
    }

    // The reply box: under the article (entry null) or under a comment.
    function composer(entry) {
      const id = uid();
      const text = h('textarea', {id: id + 't', name: 'text', rows: '4'});
      const hint = h('p', {class: 'hint', id: id + 'h'},
        t('hint'), S.thread.premoderated ? ' ' + t('premod') : null);
      const preview = h('div', {class: 'body preview', hidden: true, tabindex: '0',
        'aria-label': t('preview'), 'aria-live': 'polite'});
      const name = h('input', {id: id + 'n', name: 'name', autocomplete: 'name'});
      const email = h('input', {id: id + 'e', name: 'email', type: 'email', autocomplete: 'email'});
      const website = h('input', {id: id + 'w', name: 'website', type: 'url', autocomplete: 'url'});
      name.value = store.get('name') || '';
      website.value = store.get('website') || '';
      const previewBtn = h('button', {type: 'button', class: 'btn', 'aria-pressed': 'false'}, t('preview'));
      const submitBtn = h('button', {type: 'submit', class: 'btn pri'}, entry ? t('postReply') : t('post'));
      const label = entry ? t('replyTo', {name: nameOf(entry.c)}) : t('yourComment');
      const form = h('form', {class: 'form', novalidate: true}, field(label, text, hint), preview,
        h('div', {class: 'fields'}, field(t('name'), name), field(t('email'), email),
          field(t('website'), website),
          h('label', null, h('input', {name: 'notify', type: 'checkbox'}), ' ', t('notify'))),
        h('div', {class: 'btns'}, submitBtn, previewBtn,
          entry && h('button', {type: 'button', class: 'btn', onclick: () => closeForm(entry, 'reply')},
            t('cancel'))));

      previewBtn.addEventListener('click', () => busy(previewBtn, async () => {
        const on = previewBtn.getAttribute('aria-pressed') !== 'true';
        previewBtn.setAttribute('aria-pressed', String(on));
        text.hidden = on;
        preview.hidden = !on;
        if (!on) return text.focus();
        preview.textContent = '…';
        try {
          const {data} = await api('POST', '/preview', {text: text.value});
          preview.innerHTML = data.html; // server-sanitised
        } catch (err) {
          preview.textContent = err.message;
        }
      }));
      text.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
      });
      form.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape' && entry) closeForm(entry, 'reply');
      });
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        busy(submitBtn, () => post(form, entry, false));
      });
      return form;
    }

    function closeForm(entry, act) {
      entry.form?.remove();
      entry.form = null;
      entry.li.classList.remove('editing');
      entry.art.querySelector(`[data-act=${act}]`)?.focus();
    }

    function openForm(entry, form, focus) {
      entry.form?.remove();
      entry.li.classList.remove('editing');
      entry.form = form;
      entry.art.after(form);
      (focus || form.querySelector('textarea,input,button')).focus();
    }

    async function post(form, entry, confirm) {
      const f = form.elements;
      clearErrors(form);
      const text = f.text.value.trim();
      if (!text) return fieldError(form, 'text', t('needText'));
      const author = {};
      for (const k of ['name', 'email', 'website']) if (f[k].value.trim()) author[k] = f[k].value.trim();
      const body = {site: SITE, thread: THREAD, text, author, thread_title: TITLE,
        thread_url: location.href.split('#')[0]};
      if (entry) body.parent_id = entry.c.id;
      if (confirm) body.confirm = true;
      if (f.notify.checked) body.notify_replies = true;
      let res;
      try {
        res = await api('POST', '/comments', body);
      } catch (err) {
        if (err.code === 'nudge') {
          const box = formError(form, err.message, h('div', {class: 'btns'},
            h('button', {type: 'button', class: 'btn', onclick: () => { box.remove(); f.text.focus(); }},
              t('editMine')),
            h('button', {type: 'button', class: 'btn', onclick: () => post(form, entry, true)},
              t('postAnyway'))));
          box.querySelector('button').focus();
          return null;
        }
        if (err.field in FIELDS) return fieldError(form, err.field, err.message);
        formError(form, err.message);
        return null;
      }
      const {data} = res;
      store.set('name', author.name);
      store.set('website', author.website);
      store.set('edit:' + data.comment.id,
        JSON.stringify({token: data.edit_token, text, at: Date.now()}));
      const added = add(data.comment, S.sort === 'newest');
      if (entry) closeForm(entry, 'reply');
      else {
        f.text.value = '';
        form.querySelector('[aria-pressed=true]')?.click(); // back from preview to writing
      }
      const held = res.status === 202 || data.comment.status === 'pending';
      if (added) {
        added.li.classList.add('new');
        added.art.focus();
        showStatus();
      }
      announce(held ? data.message || t('held') : t('published'));
      return null;
    }

    function editor(entry) {
      const mine = own(entry.c.id);
      const id = uid();
      const text = h('textarea', {id: id + 't', name: 'text', rows: '4'});
      // The API returns HTML only, so the source is what this browser posted (else the plain text).
      text.value = mine.text ?? new DOMParser().parseFromString(entry.c.html, 'text/html').body.textContent;
      const save = h('button', {type: 'submit', class: 'btn pri'}, t('save'));
      const form = h('form', {class: 'form', novalidate: true}, field(t('edit'), text),
        h('div', {class: 'btns'}, save,
          h('button', {type: 'button', class: 'btn', onclick: () => closeForm(entry, 'edit')}, t('cancel'))));
      form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeForm(entry, 'edit'); });
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        busy(save, async () => {
          clearErrors(form);
          const value = text.value.trim();
          if (!value) return fieldError(form, 'text', t('needText'));
          try {
            const {data} = await api('PATCH', '/comments/' + encodeURIComponent(entry.c.id),
              {text: value}, {'X-Townhall-Edit-Token': mine.token});
            store.set('edit:' + entry.c.id, JSON.stringify({...mine, text: value}));
            update(data.comment);
            closeForm(entry, 'edit');
            entry.art.focus();
            announce(t('updated'));
          } catch (err) {
            if (err.field in FIELDS) fieldError(form, err.field, err.message);
            else formError(form, err.message);
          }
          return null;
        });
      });
      return form;
    }

    function flagForm(entry) {
      const name = uid();
      const note = h('input', {id: name + 'n', name: 'note', maxlength: '500'});
      const send = h('button', {type: 'submit', class: 'btn pri'}, t('flagSend'));
      const reasons = ['spam', 'abuse', 'off_topic', 'other'].map((r, i) => h('label', {class: 'radio'},
        h('input', {type: 'radio', name: 'reason', value: r, checked: i === 0}), t(r)));
      const form = h('form', {class: 'form', novalidate: true},
        h('fieldset', {class: 'box'}, h('legend', null, t('flagQ')), reasons, field(t('flagNote'), note)),
        h('div', {class: 'btns'}, send,
          h('button', {type: 'button', class: 'btn', onclick: () => closeForm(entry, 'flag')}, t('cancel'))));
      form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeForm(entry, 'flag'); });
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        busy(send, async () => {
          clearErrors(form);
          const body = {reason: form.elements.reason.value};
          if (note.value.trim()) body.note = note.value.trim();
          try {
            await api('POST', '/comments/' + encodeURIComponent(entry.c.id) + '/flag', body);
          } catch (err) {
            if (err.status !== 409) return formError(form, err.message); // 409: already reported
          }
          flags[entry.c.id] = 1;
          store.set('flags', JSON.stringify(flags));
          closeForm(entry, 'flag');
          update(entry.c);
          const thanks = h('p', {class: 'box', tabindex: '-1'}, t('flagThanks'));
          entry.art.after(thanks);
          thanks.focus();
          return null;
        });
      });
      return form;
    }

    /* ---- actions (one delegated listener for the whole thread) */

    const ACTIONS = {
      reply: (entry) => openForm(entry, composer(entry)),
      edit(entry) {
        openForm(entry, editor(entry));
        entry.li.classList.add('editing');
      },
      flag: (entry) => openForm(entry, flagForm(entry)),
      delete(entry) {
        const yes = h('button', {type: 'button', class: 'btn pri'}, t('delYes'));
        const box = h('div', {class: 'box alert', role: 'group', 'aria-label': t('delQ')},
          h('p', null, t('delQ')), h('div', {class: 'btns'}, yes,
            h('button', {type: 'button', class: 'btn', onclick: () => closeForm(entry, 'delete')},
              t('cancel'))));
        box.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeForm(entry, 'delete'); });
        yes.addEventListener('click', () => busy(yes, async () => {
          try {
            const {data} = await api('DELETE', '/comments/' + encodeURIComponent(entry.c.id), undefined,
              {'X-Townhall-Edit-Token': own(entry.c.id).token});
            store.set('edit:' + entry.c.id, null);
            const wasVisible = entry.c.status === 'published';
            closeForm(entry, 'delete');
            if (data.comment) update(data.comment);
            else remove(entry);
            if (wasVisible) setCount(Math.max(0, S.count - 1));
            (data.comment ? S.byId.get(entry.c.id)?.art : heading)?.focus?.();
            announce(t('removedOk'));
          } catch (err) {
            box.querySelector('.err')?.remove();
            box.append(h('p', {class: 'err', role: 'alert'}, err.message));
          }
        }));
        openForm(entry, box, yes);
      },
      like: (entry, btn) => vote(entry, btn, 1),
      dislike: (entry, btn) => vote(entry, btn, -1),
      replies: (entry, btn) => busy(btn, async () => {
        try {
          const {data} = await api('GET', query({cursor: entry.cursor}));
          const first = render(data.comments);
          const left = entry.remaining - data.comments.length;
          if (data.next_cursor) moreRepliesButton(entry, data.next_cursor, left);
          else entry.moreBtn.remove();
          (first || entry.moreBtn)?.focus();
        } catch (err) {
          announce(err.message);
        }
      }),
      page: (_, btn) => busy(btn, async () => {
        try {
          const {data} = await api('GET', query({cursor: S.next}));
          const first = showPage(data);
          (first || btn).focus();
        } catch (err) {
          announce(err.message);
        }
      }),
    };

    function vote(entry, btn, value) {
      busy(btn, async () => {
        const id = entry.c.id;
        const next = votes[id] === value ? 0 : value;
        try {
          const {data} = await api('POST', '/comments/' + encodeURIComponent(id) + '/vote', {value: next});
          votes[id] = next;
          if (!next) delete votes[id];
          store.set('votes', JSON.stringify(votes));
          entry.c.likes = data.likes;
          entry.c.dislikes = data.dislikes;
          for (const [act, n, v] of [['like', data.likes, 1], ['dislike', data.dislikes, -1]]) {
            const b = entry.art.querySelector(`[data-act=${act}]`);
            b.setAttribute('aria-pressed', String(next === v));
            b.querySelector('.n').textContent = numbers.format(n);
          }
        } catch (err) {
          announce(err.message);
        }
      });
    }

    root.addEventListener('click', (ev) => {
      const btn = ev.target.closest('[data-act]');
      const li = btn && btn.closest('li[data-id]');
      const action = btn && ACTIONS[btn.dataset.act];
      if (action && btn.getAttribute('aria-disabled') !== 'true') {
        action(li && S.byId.get(li.dataset.id), btn);
      }
    });

    // Forget own-comment tokens once their edit window is long gone.
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        const mine = key.startsWith(PREFIX + 'edit:') && store.json(key.slice(PREFIX.length), {});
        if (mine && Date.now() - (mine.at || 0) > 7 * 864e5) localStorage.removeItem(key);
      }
    } catch { /* storage unavailable */ }

    /* ---- lazy start: when the container comes near the viewport */
    if (!window.IntersectionObserver || /^#townhall-c-/.test(location.hash)) {
      start();
    } else {
      const io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          io.disconnect();
          start();
        }
      }, {rootMargin: '600px 0px'});
      io.observe(host);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
