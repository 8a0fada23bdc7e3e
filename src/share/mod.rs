//! One connection per browser (docs/tabs.md): the tabs of an app share one session, hosted in
//! a `SharedWorker` or in the tab that leads the others. [`message`] is what a tab and the host
//! say to each other; [`hub`] is the host, sans-IO like the session it serves.

pub mod hub;
pub mod message;
