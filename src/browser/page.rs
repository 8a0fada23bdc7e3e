//! The page's events that matter to a connection: `online`/`offline`, visibility, and the
//! signs that the page was frozen or the machine asleep (`resume`, `pageshow`, `focus`), after
//! which the connection is checked at once rather than at the next heartbeat. A tab on its own
//! feeds them to its session; a tab sharing one sends them to the session's host.

use super::owned::OwnedListener;
use std::rc::Rc;
use web_sys::{EventTarget, VisibilityState};

/// One page event.
#[derive(Clone, Copy)]
pub(crate) enum PageEvent {
    Online(bool),
    Visible(bool),
    Resumed,
}

/// The listeners, removed when dropped; each calls `on`. None where there is no `window` (a
/// worker).
pub(crate) fn listeners(on: impl Fn(PageEvent) + 'static) -> Vec<OwnedListener> {
    let on = Rc::new(on);
    let mut out = Vec::new();
    let Some(window) = web_sys::window() else {
        return out;
    };
    let mut listen =
        |target: &EventTarget, kind: &'static str, event: Rc<dyn Fn() -> PageEvent>| {
            let on = on.clone();
            if let Ok(l) = OwnedListener::new(target.clone(), kind, move |_| on(event())) {
                out.push(l);
            }
        };
    let target: &EventTarget = window.as_ref();
    listen(target, "online", Rc::new(|| PageEvent::Online(true)));
    listen(target, "offline", Rc::new(|| PageEvent::Online(false)));
    listen(target, "pageshow", Rc::new(|| PageEvent::Resumed));
    listen(target, "focus", Rc::new(|| PageEvent::Resumed));
    if let Some(document) = window.document() {
        let target: &EventTarget = document.as_ref();
        listen(target, "resume", Rc::new(|| PageEvent::Resumed));
        let doc = document.clone();
        let visible =
            move || PageEvent::Visible(doc.visibility_state() == VisibilityState::Visible);
        listen(target, "visibilitychange", Rc::new(visible));
    }
    out
}
