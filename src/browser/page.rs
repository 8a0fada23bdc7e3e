//! The page's events that matter to a connection: `online`/`offline`, visibility, and the
//! signs that the page was frozen or the machine asleep (`resume`, `pageshow`, `focus`), after
//! which the connection is checked at once rather than at the next heartbeat.

use super::driver::{with, Inner};
use super::host::{now, OwnedListener};
use std::rc::Weak;
use web_sys::{EventTarget, VisibilityState};

fn listen(
    listeners: &mut Vec<OwnedListener>,
    target: &EventTarget,
    kind: &'static str,
    me: &Weak<Inner>,
    f: impl Fn(&Inner) + 'static,
) {
    let me = me.clone();
    if let Ok(l) = OwnedListener::new(target.clone(), kind, move |_| with(&me, &f)) {
        listeners.push(l);
    }
}

/// The listeners, removed when dropped. None where there is no `window` (a worker).
pub(crate) fn listeners(me: &Weak<Inner>) -> Vec<OwnedListener> {
    let mut out = Vec::new();
    let Some(window) = web_sys::window() else {
        return out;
    };
    let target: &EventTarget = window.as_ref();
    for (kind, online) in [("online", true), ("offline", false)] {
        listen(&mut out, target, kind, me, move |inner| {
            inner.session.borrow_mut().set_online(online, now())
        });
    }
    for kind in ["pageshow", "focus"] {
        listen(&mut out, target, kind, me, |inner| {
            inner.session.borrow_mut().resumed(now())
        });
    }
    if let Some(document) = window.document() {
        let target: &EventTarget = document.as_ref();
        listen(&mut out, target, "resume", me, |inner| {
            inner.session.borrow_mut().resumed(now())
        });
        let doc = document.clone();
        listen(&mut out, target, "visibilitychange", me, move |inner| {
            let visible = doc.visibility_state() == VisibilityState::Visible;
            inner.session.borrow_mut().set_visible(visible, now())
        });
    }
    out
}
