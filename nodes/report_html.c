/* The Report page's text buffer (report.h), HTML escaping, base64 (RFC 4648)
 * for the embedded images, and the page's fixed style and script: a neutral
 * grey page (no tint next to pictures judged for colour) and the wipes, a
 * slider that reveals one image over another, built from the thumbnails of
 * the same frame. */
#include "error.h"
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reel_html_free(reel_html_t *h) {
  reel_buf_free(&h->b);
  h->bad = 0;
}

void reel_html_raw(reel_html_t *h, const char *s, size_t n) {
  if (!h->bad && n && reel_buf_put(&h->b, s, n)) h->bad = 1;
}

void reel_html_put(reel_html_t *h, const char *s) { reel_html_raw(h, s, strlen(s)); }

void reel_html_printf(reel_html_t *h, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0 || h->bad) return;
  if ((size_t)n < sizeof small) {
    reel_html_raw(h, small, (size_t)n);
    return;
  }
  char *p = reel_buf_grow(&h->b, (size_t)n + 1);
  if (!p) {
    h->bad = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  h->b.n--; /* the terminating 0 is not part of the text */
}

void reel_html_text(reel_html_t *h, const char *s) {
  for (const char *run = s;; s++) {
    const char *e = *s == '&'    ? "&amp;"
                    : *s == '<'  ? "&lt;"
                    : *s == '>'  ? "&gt;"
                    : *s == '"'  ? "&quot;"
                    : *s == '\'' ? "&#39;"
                                 : NULL;
    if (!e && *s) continue;
    reel_html_raw(h, run, (size_t)(s - run));
    if (!*s) return;
    reel_html_put(h, e);
    run = s + 1;
  }
}

void reel_html_base64(reel_html_t *h, const void *pv, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *p = pv;
  char *o = h->bad ? NULL : reel_buf_grow(&h->b, (n + 2) / 3 * 4);
  if (!o) {
    h->bad = 1;
    return;
  }
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    *o++ = abc[v >> 18];
    *o++ = abc[v >> 12 & 63];
    *o++ = abc[v >> 6 & 63];
    *o++ = abc[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
    *o++ = abc[v >> 18];
    *o++ = abc[v >> 12 & 63];
    *o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
    *o++ = '=';
  }
}

void reel_html_img(reel_html_t *h, const char *mime, const void *p, size_t n, const char *attrs) {
  reel_html_printf(h, "<img src=\"data:%s;base64,", mime);
  reel_html_base64(h, p, n);
  reel_html_printf(h, "\"%s%s>", attrs && *attrs ? " " : "", attrs ? attrs : "");
}

const char reel_report_css[] =
    "body{margin:0;background:#2a2a2a;color:#d8d8d8;font:14px/1.45 system-ui,sans-serif}\n"
    "main{max-width:1800px;margin:0 auto;padding:16px 24px 48px}\n"
    "h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:32px 0 8px;"
    "border-bottom:1px solid #444;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}\n"
    "a{color:#9cc3ff}nav a{margin-right:14px}\n"
    ".prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}\n"
    ".prov dt{color:#999}.prov dd{margin:0;font-family:monospace;word-break:break-all}\n"
    "pre{background:#222;border:1px solid #3a3a3a;padding:8px;overflow-x:auto;font-size:12px}\n"
    ".note{color:#aaa;font-style:italic}\n"
    ".graph{overflow-x:auto;background:#232323;border:1px solid #3a3a3a;padding:8px}\n"
    ".graph svg{display:block;max-width:none}\n"
    ".row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}\n"
    "figure{margin:0;flex:1 1 0;min-width:160px;max-width:var(--thumb,640px)}\n"
    "figure img{display:block;width:100%;height:auto;background:#000}\n"
    "figcaption{font-size:12px;color:#aaa;padding:2px 0}figcaption b{color:#ddd}\n"
    ".dataset figure{flex:0 0 auto;width:var(--dthumb,240px)}\n"
    ".row.contact{display:block}.contact figure{max-width:100%;margin:0 0 8px}\n"
    ".contact figure img{max-width:100%;height:auto;image-rendering:pixelated}\n"
    ".wipe{margin:10px 0 4px;max-width:var(--thumb,640px)}\n"
    ".wipe .stage{position:relative;cursor:ew-resize;user-select:none;line-height:0}\n"
    ".wipe .stage img{display:block;width:100%;height:auto}\n"
    ".wipe .stage img.top{position:absolute;left:0;top:0}\n"
    ".wipe .bar{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:#fff;"
    "box-shadow:0 0 3px #000;pointer-events:none}\n"
    ".wipe .controls{display:flex;gap:10px;align-items:center;margin-top:4px;font-size:12px}\n"
    ".wipe input[type=range]{flex:1}\n"
    "table.metrics{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:8px 0}\n"
    ".metrics th,.metrics td{border:1px solid #444;padding:3px 10px;text-align:right}\n"
    ".metrics th{background:#333}.metrics th:nth-child(-n+2){text-align:left}.metrics "
    "td.what,.metrics td.frame{text-align:left}\n"
    ".metrics tr.first td{border-top:2px solid #666}\n"
    ".metrics td.best{background:#2f5a34;color:#fff;font-weight:bold}\n"
    ".metrics tr.mean td{background:#303030}.metrics tr.mean td.best{background:#2f5a34}\n"
    ".loss svg{background:#232323;border:1px solid #3a3a3a;max-width:100%;height:auto}\n";

/* Each .wipe names its frame's thumbnails by role (data-roles, in order) and
 * the pair shown first (data-top over data-bottom); the script builds the
 * stage, the slider and the two pickers, then, once every image has
 * decoded, sets <body data-report="ready"> (or "broken" when an image
 * failed), which tests and tools can wait for. */
const char reel_report_js[] =
    "(function(){\n"
    "'use strict';\n"
    "function thumbs(sec){var m={};sec.querySelectorAll('img[data-role]').forEach(function(i){"
    "m[i.dataset.role]=i;});return m;}\n"
    "function picker(roles,m,sel){var s=document.createElement('select');roles.forEach("
    "function(r){var o=document.createElement('option');o.value=r;o.textContent="
    "m[r].dataset.label||r;if(r===sel)o.selected=true;s.appendChild(o);});return s;}\n"
    "function build(w){var sec=w.closest('.frame'),m=thumbs(sec),roles=w.dataset.roles."
    "split(' ').filter(function(r){return m[r];});if(roles.length<2)return;\n"
    " var stage=document.createElement('div');stage.className='stage';\n"
    " var bot=document.createElement('img'),top=document.createElement('img'),"
    "bar=document.createElement('div');bot.className='bottom';top.className='top';"
    "bar.className='bar';\n"
    " stage.appendChild(bot);stage.appendChild(top);stage.appendChild(bar);\n"
    " var ctl=document.createElement('div');ctl.className='controls';\n"
    " var st=picker(roles,m,w.dataset.top),sb=picker(roles,m,w.dataset.bottom);\n"
    " var range=document.createElement('input');range.type='range';range.min=0;"
    "range.max=1000;range.value=500;\n"
    " var l1=document.createElement('span');l1.textContent='left:';"
    "var l2=document.createElement('span');l2.textContent='right:';\n"
    " ctl.appendChild(l1);ctl.appendChild(st);ctl.appendChild(range);ctl.appendChild(l2);"
    "ctl.appendChild(sb);\n"
    " w.appendChild(stage);w.appendChild(ctl);\n"
    " function set(){var v=range.value/10;top.style.clipPath='inset(0 '+(100-v)+'% 0 0)';"
    "bar.style.left=v+'%';}\n"
    " function pair(){top.src=m[st.value].src;bot.src=m[sb.value].src;"
    "top.alt=m[st.value].alt;bot.alt=m[sb.value].alt;}\n"
    " function drag(e){var r=stage.getBoundingClientRect();"
    "range.value=Math.round(Math.max(0,Math.min(1,(e.clientX-r.left)/r.width))*1000);set();}\n"
    " stage.addEventListener('pointerdown',function(e){stage.setPointerCapture(e.pointerId);"
    "drag(e);});\n"
    " stage.addEventListener('pointermove',function(e){if(e.buttons)drag(e);});\n"
    " range.addEventListener('input',set);st.addEventListener('change',pair);"
    "sb.addEventListener('change',pair);\n"
    " pair();set();w.dataset.ready='1';}\n"
    "document.querySelectorAll('.wipe').forEach(build);\n"
    "var imgs=Array.prototype.slice.call(document.images);\n"
    "Promise.all(imgs.map(function(i){return i.complete?Promise.resolve():new Promise("
    "function(ok){i.addEventListener('load',ok);i.addEventListener('error',ok);});}))"
    ".then(function(){\n"
    " var bad=imgs.filter(function(i){return !(i.naturalWidth>0);}).length;\n"
    " document.body.dataset.images=String(imgs.length);\n"
    " document.body.dataset.report=bad?'broken':'ready';});\n"
    "})();\n";
