"""A stylesheet for the markup of Isso's client (``GET /css/isso.css``).

Isso's client links ``<endpoint>/css/isso.css`` unless the page sets ``data-isso-css="false"``.
This is townhall's own sheet for the same class names: quiet, readable, and it keeps the
behaviour the client relies on (the preview pane and the "edit" button only in preview mode).
"""

from __future__ import annotations

CSS = """\
#isso-thread { font: inherit; color: inherit; max-width: 48rem; }
#isso-thread * { box-sizing: border-box; }
#isso-thread a { color: inherit; text-decoration: underline; text-underline-offset: 2px; }
#isso-thread .isso-thread-heading { font-size: 1.1em; margin: 1.5em 0 1em; }
#isso-thread .isso-feedlink { float: right; font-size: 0.85em; }

.isso-comment { display: flex; flex-wrap: wrap; gap: 0 0.75em; margin: 0 0 1em; }
.isso-comment > .isso-avatar { flex: 0 0 2.5em; }
.isso-comment > .isso-avatar svg { width: 2.5em; height: 2.5em; border-radius: 4px; }
.isso-comment > .isso-text-wrapper { flex: 1 1 0; min-width: 0; }
.isso-comment > .isso-follow-up { flex: 0 0 100%; padding-left: 3.25em; margin-top: 0.75em; }
.isso-comment .isso-follow-up .isso-follow-up { padding-left: 0; }
.isso-comment-header { font-size: 0.9em; }
.isso-comment-header .isso-author { font-weight: 600; }
.isso-comment-header .isso-spacer { padding: 0 0.4em; opacity: 0.6; }
.isso-comment-header .isso-permalink, .isso-comment-header .isso-note { opacity: 0.75; }
.isso-comment-header .isso-note { font-style: italic; padding-left: 0.4em; }
.isso-text p { margin: 0.4em 0; }
.isso-text pre { overflow-x: auto; }
.isso-target > .isso-text { outline: 2px solid #c8a600; outline-offset: 4px; }
.isso-comment-footer { font-size: 0.85em; display: flex; align-items: center; gap: 0.6em; }
.isso-comment-footer a { cursor: pointer; }
.isso-comment-footer svg { width: 14px; height: 14px; vertical-align: middle; fill: currentColor; }
.isso-comment-footer .isso-votes { font-weight: 600; min-width: 1ch; }
.isso-comment-footer .isso-spacer { opacity: 0.5; }
.isso-no-votes > .isso-text-wrapper .isso-votes { display: none; }
.isso-comment-loader { margin: 0.5em 0 1em; }

.isso-postbox { margin: 0 0 1.5em; }
.isso-postbox .isso-textarea, .isso-textarea-wrapper > .isso-textarea {
  width: 100%; min-height: 6em; padding: 0.5em; font: inherit; color: inherit;
  background: transparent; border: 1px solid #8a8a8a; border-radius: 4px;
}
.isso-postbox .isso-preview { display: none; }
.isso-postbox.isso-preview-mode .isso-textarea { display: none; }
.isso-postbox.isso-preview-mode .isso-preview {
  display: block; padding: 0.5em; border: 1px dashed #8a8a8a; border-radius: 4px;
}
.isso-auth-section { display: flex; flex-wrap: wrap; gap: 0.5em; align-items: flex-end; }
.isso-auth-section p { margin: 0.5em 0 0; }
.isso-input-wrapper { display: flex; flex-direction: column; flex: 1 1 10em; }
.isso-input-wrapper label { font-size: 0.85em; }
.isso-input-wrapper input {
  font: inherit; padding: 0.35em 0.5em; border: 1px solid #8a8a8a; border-radius: 4px;
  color: inherit; background: transparent;
}
.isso-post-action input { font: inherit; padding: 0.4em 0.9em; cursor: pointer; }
.isso-postbox [name='edit'] { display: none; }
.isso-postbox.isso-preview-mode [name='edit'] { display: inline-block; }
.isso-postbox.isso-preview-mode [name='preview'] { display: none; }
.isso-notification-section { display: none; }
"""
