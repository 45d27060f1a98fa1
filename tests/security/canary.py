"""The hook that tells whether a payload got to run in Chromium.

Every frame of the page gets ``window.__xss = []`` before any of its own scripts, and
``alert``/``confirm``/``prompt``/``print`` that record instead of blocking; every payload in
payloads/xss.txt tries to reach one of them. Around that, from outside the page: dialogs,
navigations of any frame, popups, console messages, requests to anything but the comment
server and the host page (an injected <img> or <iframe> shows up there even when no script
runs), and Content-Security-Policy violations (the host page is served with a report-only
policy that allows no inline script, so an injected handler is reported even if it did
nothing observable). And inside: an audit of the DOM the widget built."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Any

INIT_SCRIPT = """
(() => {
  const own = [];
  let sink = own;
  try { if (window.top !== window && window.top.__xss) sink = window.top.__xss; } catch (e) {}
  Object.defineProperty(window, '__xss', {value: own, writable: false, configurable: false});
  const record = (kind) => function (...args) {
    const entry = kind + ':' + args.map(String).join(',') + ' @' + location.href;
    own.push(entry);
    if (sink !== own) sink.push(entry);
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) window[name] = record(name);
  document.addEventListener('securitypolicyviolation', (e) => {
    own.push('csp:' + e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
  }, true);
})();
"""


class CspHostServer:
    """The publisher's page on http://localhost:<port> (another origin than the comment
    server), sent with a report-only Content-Security-Policy: nothing is blocked (the canary
    must be able to fire), but any inline script, handler attribute, javascript: URL, plugin
    or frame is reported as a violation. (Routing the page through Playwright instead would
    make Chromium treat it as a public page that may not call the loopback comment server.)"""

    def __init__(self) -> None:
        pages: dict[str, str] = {}
        self.pages = pages
        self.api_origin = ""  # set once the comment server runs
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Security-Policy-Report-Only", server.csp())
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def csp(self) -> str:
        return (
            f"script-src {self.api_origin}; object-src 'none'; base-uri 'none'; "
            "frame-src 'none'; form-action 'none'"
        )

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# What a comment body may contain once the browser has parsed it (the server's allow-list);
# every anchor anywhere in the widget must be http(s), mailto or in-page.
AUDIT_SCRIPT = """
(selector) => {
  const SAFE = new Set(['p','br','em','strong','del','a','ul','ol','li','blockquote','code','pre']);
  const ATTRS = {a: ['href', 'rel', 'title', 'lang'], ol: ['start', 'title', 'lang']};
  const problems = [];
  const host = document.querySelector(selector);
  const root = host && (host.shadowRoot || host);
  if (!root) return ['no root ' + selector];
  for (const body of root.querySelectorAll('.body')) {
    for (const el of body.querySelectorAll('*')) {
      const tag = el.localName;
      if (!SAFE.has(tag)) problems.push('element <' + tag + '> in a comment body');
      for (const a of el.attributes) {
        if (!(ATTRS[tag] || ['title', 'lang']).includes(a.name))
          problems.push('attribute ' + a.name + ' on <' + tag + '> in a comment body');
      }
    }
  }
  const everything = [...document.querySelectorAll('*'), ...root.querySelectorAll('*')];
  for (const el of everything) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) problems.push('handler ' + a.name + ' on <' + el.localName + '>');
    }
    if (el.localName === 'a' && el.hasAttribute('href')) {
      let url = null;
      try { url = new URL(el.getAttribute('href'), location.href); } catch (e) {} // inert
      if (url && !['http:', 'https:', 'mailto:'].includes(url.protocol))
        problems.push('link to ' + url.protocol + ' ' + el.getAttribute('href'));
    }
    if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'meta', 'svg', 'math', 'img',
         'video', 'audio', 'link', 'template'].includes(el.localName) && root.contains(el))
      problems.push('element <' + el.localName + '> in the widget');
  }
  // Give any handler that slipped through its event (never navigates: no click on links).
  for (const el of root.querySelectorAll('.body *, .who')) {
    for (const type of ['mouseover', 'mouseenter', 'pointerenter', 'focus', 'focusin',
                        'animationstart', 'toggle', 'load', 'error'])
      el.dispatchEvent(new Event(type));
  }
  return problems;
}
"""


@dataclass
class Canary:
    """Attach to a browser context before opening pages; ``hits()`` after the page ran."""

    allowed_prefixes: tuple[str, ...]  # what the page itself loads: API calls, scripts...
    allowed_urls: set[str] = field(default_factory=set)  # the documents the test opens
    navigable: tuple[str, ...] = ()  # prefixes of documents that may be opened (same-site pages)
    audit: str = ""  # the DOM audit (a JS function of one selector); AUDIT_SCRIPT by default
    outside: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.add_init_script(INIT_SCRIPT)
        context.on("page", self._watch)

    def _watch(self, page: Any) -> None:
        self.pages.append(page)
        if len(self.pages) > 1:
            self.outside.append(f"popup {page.url}")

        def on_dialog(dialog: Any) -> None:
            self.outside.append(f"dialog {dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_navigated(frame: Any) -> None:
            url = frame.url.split("#")[0]
            main = frame.parent_frame is None
            if not (url in self.allowed_urls or (main and url.startswith(self.navigable))):
                self.outside.append(f"navigation to {frame.url}")

        def on_request(request: Any) -> None:
            url = request.url.split("#")[0]
            if url in self.allowed_urls or url.endswith("/favicon.ico"):
                return
            document = request.resource_type == "document" and request.frame.parent_frame is None
            if document and url.startswith(self.navigable):
                return
            if not url.startswith(self.allowed_prefixes):
                self.outside.append(f"request for {request.resource_type} {request.url}")

        def on_console(message: Any) -> None:
            text = message.text
            if "Content Security Policy" in text or "__xss" in text:
                self.outside.append(f"console: {text}")

        page.on("dialog", on_dialog)
        page.on("framenavigated", on_navigated)
        page.on("request", on_request)
        page.on("console", on_console)
        page.on("popup", lambda p: self.outside.append(f"popup {p.url}"))

    def hits(self, page: Any, selector: str = "#townhall-thread") -> list[str]:
        """Everything that ran, loaded or navigated that should not have, plus the DOM audit."""
        inside = page.evaluate("() => window.__xss.slice()")
        audit = page.evaluate(self.audit or AUDIT_SCRIPT, selector)
        page.wait_for_timeout(200)  # let dispatched events and their consequences land
        inside += page.evaluate("() => window.__xss.slice()")[len(inside) :]
        return [*self.outside, *(f"__xss: {x}" for x in inside), *audit]


# The moderator pages: the same allow-list inside each comment's rendered HTML (.html), and
# everywhere: no handler attributes, no inline or foreign scripts, no frames or plugins, no
# refresh, links only to http(s), mailto or the page's own origin, forms only to it.
ADMIN_AUDIT_SCRIPT = """
(selector) => {
  const SAFE = new Set(['p','br','em','strong','del','a','ul','ol','li','blockquote','code','pre']);
  const ATTRS = {a: ['href', 'rel', 'title', 'lang'], ol: ['start', 'title', 'lang']};
  const problems = [];
  for (const box of document.querySelectorAll(selector)) {
    for (const el of box.querySelectorAll('*')) {
      if (!SAFE.has(el.localName)) problems.push('element <' + el.localName + '> in a comment');
      for (const a of el.attributes)
        if (!(ATTRS[el.localName] || ['title', 'lang']).includes(a.name))
          problems.push('attribute ' + a.name + ' on <' + el.localName + '> in a comment');
    }
  }
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName;
    for (const a of el.attributes)
      if (/^on/i.test(a.name)) problems.push('handler ' + a.name + ' on <' + tag + '>');
    if (tag === 'a' && el.hasAttribute('href')) {
      let url = null;
      try { url = new URL(el.getAttribute('href'), location.href); } catch (e) {}
      if (url && !['http:', 'https:', 'mailto:'].includes(url.protocol))
        problems.push('link to ' + url.protocol + ' ' + el.getAttribute('href'));
    }
    if (tag === 'script' && (!el.src || !el.src.startsWith(location.origin + '/static/')))
      problems.push('script ' + (el.src || 'inline: ' + el.textContent.slice(0, 60)));
    if (['iframe', 'frame', 'object', 'embed', 'base', 'portal'].includes(tag))
      problems.push('element <' + tag + '>');
    if (tag === 'meta' && el.httpEquiv) problems.push('meta http-equiv ' + el.httpEquiv);
    if (tag === 'form') {  // (form.action may be an <input name=action>: read the attribute)
      const target = new URL(el.getAttribute('action') || '', location.href);
      if (target.origin !== location.origin) problems.push('form to ' + target.href);
    }
  }
  for (const el of document.querySelectorAll('main *')) {
    for (const type of ['mouseover', 'mouseenter', 'pointerenter', 'focus', 'focusin',
                        'animationstart', 'toggle', 'load', 'error'])
      el.dispatchEvent(new Event(type));
  }
  return problems;
}
"""
