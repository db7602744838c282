/* Kefu loader: the only script a site owner pastes.
 *
 * It draws the launcher at once and nothing else: no Wasm, no iframe, no cookie, no storage
 * until the visitor opens the chat. On the first open it adds an iframe served by the Kefu
 * server (which isolates CSS and JS both ways) and talks to it only by postMessage, checking
 * the origin and the source window of every message. Styles are set through the CSSOM, so a
 * strict Content-Security-Policy without 'unsafe-inline' works.
 *
 * Data attributes: data-site, data-group, data-lang, data-position, data-color, data-label,
 * data-backend="local" (the in-browser demo backend: kefu-core's robot, no server round trip).
 *
 * Public API (calls made before the widget is ready are queued):
 *   Kefu.open() Kefu.close() Kefu.toggle() Kefu.setUser({...}) Kefu.setLocale('zh-CN'|'en')
 *   Kefu.on('open'|'close'|'message'|'unread', fn)
 */
(function (win, doc) {
  'use strict';
  var script = doc.currentScript;
  if (!script || (win.Kefu && win.Kefu.loaded)) return;
  var data = script.dataset;
  var origin = new URL(script.src, location.href).origin;
  var lang = data.lang || ((doc.documentElement.lang || navigator.language || '').toLowerCase().indexOf('zh') === 0 ? 'zh-CN' : 'en');
  function defaultLabel() { return data.label || (lang === 'zh-CN' ? '在线客服' : 'Chat with us'); }
  var label = defaultLabel();
  var accent = /^#[0-9a-f]{3,8}$/i.test(data.color || '') ? data.color : '#1f6feb';
  var side = data.position === 'left' ? 'left' : 'right';
  var handlers = {}, outbox = [], frame = null, ready = false, isOpen = false, unread = 0;
  var KEY = 'kefu-open';

  function css(el, rules) { for (var k in rules) el.style.setProperty(k, rules[k]); return el; }
  function emit(name, arg) { (handlers[name] || []).forEach(function (fn) { try { fn(arg); } catch (e) { setTimeout(function () { throw e; }); } }); }
  function post(msg) {
    msg.kefu = 1;
    if (ready) frame.contentWindow.postMessage(msg, origin); else outbox.push(msg);
  }

  var launcher = css(doc.createElement('button'), {
    position: 'fixed', 'z-index': '2147483000', border: '0',
    'border-radius': '24px', padding: '12px 18px', 'font': '600 16px/1.2 system-ui,sans-serif',
    background: accent, color: '#fff', cursor: 'pointer', 'box-shadow': '0 4px 16px rgba(0,0,0,.2)'
  });
  launcher.type = 'button';
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.setAttribute('aria-expanded', 'false');
  var text = doc.createElement('span');
  text.textContent = label;
  var badge = css(doc.createElement('span'), {
    display: 'none', 'margin-left': '8px', 'min-width': '20px', 'border-radius': '10px',
    background: '#d1242f', padding: '0 6px', 'font-size': '13px', 'line-height': '20px'
  });
  launcher.appendChild(text);
  launcher.appendChild(badge);
  launcher.addEventListener('click', function () { api.toggle(); });

  function setUnread(n) {
    unread = n;
    badge.textContent = String(n);
    badge.style.display = n > 0 ? 'inline-block' : 'none';
    nameLauncher();
    emit('unread', n);
  }
  function nameLauncher() { launcher.setAttribute('aria-label', unread > 0 ? label + ' (' + unread + ')' : label); }

  // Placed by the visual viewport (what the visitor sees), not the layout viewport that fixed
  // elements use: on a phone, a host page that overflows sideways widens the layout viewport
  // past the screen, and right/bottom/100% would then put the launcher and the panel's
  // buttons out of reach.
  function layout() {
    var small = win.matchMedia('(max-width: 640px)').matches;
    // Full screen on a phone: the page behind must not scroll (nor take room with its
    // scrollbars), so this comes before the viewport is measured.
    doc.documentElement.style.overflow = isOpen && small ? 'hidden' : '';
    var vv = win.visualViewport, y = vv.offsetTop;
    // From the layout viewport's edges to the visible area's, on a phone (on a desktop both
    // coincide, and its scroll bars, inside innerWidth/innerHeight, would only skew them).
    var gap = small ? side === 'left' ? vv.offsetLeft : win.innerWidth - vv.offsetLeft - vv.width : 0;
    var lift = small ? win.innerHeight - y - vv.height : 0;
    css(launcher, { bottom: lift + 20 + 'px', [side]: gap + 20 + 'px' });
    launcher.style.display = isOpen && small ? 'none' : 'block';
    if (!frame) return;
    css(frame, small ? {
      // With top and height set, a bottom left from the desktop layout is ignored.
      top: y + 'px', [side]: gap + 'px', width: vv.width + 'px', height: vv.height + 'px',
      'border-radius': '0'
    } : {
      top: 'auto', bottom: '84px', [side]: gap + 20 + 'px', width: '380px',
      height: 'min(640px, calc(100% - 104px))', 'border-radius': '12px'
    });
    frame.style.display = isOpen ? 'block' : 'none';
  }

  function ensureFrame() {
    if (frame) return;
    var src = new URL(origin + '/widget');
    var params = { site: data.site || '', group: data.group || '', lang: lang, backend: data.backend || '', host: location.origin };
    for (var k in params) if (params[k]) src.searchParams.set(k, params[k]);
    frame = css(doc.createElement('iframe'), {
      position: 'fixed', 'z-index': '2147483001', border: '0', display: 'none',
      'box-shadow': '0 8px 32px rgba(0,0,0,.25)', background: '#fff'
    });
    frame.title = label;
    frame.src = src.href;
    frame.setAttribute('allow', 'clipboard-write');
    doc.body.appendChild(frame);
  }

  win.addEventListener('message', function (event) {
    // Only our own iframe, from the Kefu server's origin, may speak to the loader.
    if (!frame || event.origin !== origin || event.source !== frame.contentWindow) return;
    var msg = event.data;
    if (!msg || msg.kefu !== 1) return;
    if (msg.type === 'ready') {
      ready = true;
      outbox.splice(0).forEach(post);
    } else if (msg.type === 'close') {
      api.close();
    } else if (msg.type === 'unread') {
      setUnread(isOpen ? 0 : msg.count | 0);
    } else if (msg.type === 'message') {
      emit('message', msg.message);
    } else if (msg.type === 'setLocale') {
      // The panel's own language button: the launcher follows (the panel ignores the echo).
      api.setLocale(msg.locale);
    }
  });

  var api = {
    loaded: true,
    open: function () {
      if (isOpen) return;
      ensureFrame();
      isOpen = true;
      try { sessionStorage.setItem(KEY, '1'); } catch (e) { /* storage may be blocked */ }
      launcher.setAttribute('aria-expanded', 'true');
      layout();
      // Into the panel: the frame takes the focus, the panel puts it in its composer.
      frame.focus();
      post({ type: 'open', page: { url: location.href, title: doc.title, referrer: doc.referrer } });
      setUnread(0);
      emit('open');
    },
    close: function () {
      if (!isOpen) return;
      isOpen = false;
      try { sessionStorage.removeItem(KEY); } catch (e) { /* storage may be blocked */ }
      launcher.setAttribute('aria-expanded', 'false');
      layout();
      post({ type: 'close' });
      launcher.focus();
      emit('close');
    },
    toggle: function () { isOpen ? api.close() : api.open(); },
    setUser: function (user) { post({ type: 'setUser', user: user }); },
    setLocale: function (locale) {
      lang = String(locale).toLowerCase().indexOf('zh') === 0 ? 'zh-CN' : 'en';
      label = defaultLabel();
      text.textContent = label;
      if (frame) frame.title = label;
      nameLauncher();
      post({ type: 'setLocale', locale: lang });
    },
    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); }
  };

  // Calls queued by a stub defined before this script loaded: Kefu.q = [['open'], ...].
  var queued = (win.Kefu && win.Kefu.q) || [];
  win.Kefu = api;
  setUnread(0);
  function start() {
    doc.body.appendChild(launcher);
    layout();
    // A resized window, a pinch zoom or a sideways scroll moves the visual viewport, and iOS
    // shows its keyboard by shrinking and scrolling it: follow all of them, so the launcher
    // stays on screen and the composer just above the keyboard.
    win.visualViewport.addEventListener('resize', layout);
    win.visualViewport.addEventListener('scroll', layout);
    // A performance mark once the launcher is painted, for the site's monitoring (and the benchmark).
    requestAnimationFrame(function () { setTimeout(function () { performance.mark('kefu:launcher-painted'); }); });
    queued.forEach(function (call) { if (api[call[0]]) api[call[0]].apply(null, [].slice.call(call, 1)); });
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(KEY) === '1'; } catch (e) { /* storage may be blocked */ }
    if (wasOpen) api.open();
  }
  if (doc.body) start(); else doc.addEventListener('DOMContentLoaded', start);
})(window, document);
