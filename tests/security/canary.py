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

    allowed_origins: tuple[str, ...]
    allowed_urls: set[str] = field(default_factory=set)
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
            if frame.url.split("#")[0] not in self.allowed_urls:
                self.outside.append(f"navigation to {frame.url}")

        def on_request(request: Any) -> None:
            url = request.url.split("#")[0]
            if url in self.allowed_urls or url.endswith("/favicon.ico"):
                return
            api = [o for o in self.allowed_origins if url.startswith(o + "/api/")]
            assets = url.split("?")[0].endswith(("/embed.js", "/count.js"))
            if not api and not assets:
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
        audit = page.evaluate(AUDIT_SCRIPT, selector)
        page.wait_for_timeout(200)  # let dispatched events and their consequences land
        inside += page.evaluate("() => window.__xss.slice()")[len(inside) :]
        return [*self.outside, *(f"__xss: {x}" for x in inside), *audit]
