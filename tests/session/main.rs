//! The session state machine on simulated clocks, against a fake server as hard as Supabase
//! (tests/common/fake_server.rs), one module per concern: the connection, joins, tokens, replay,
//! what the app is told, clients sharing a session, events into batches, and the properties
//! that hold under any sequence of inputs.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod clients;
mod events;
mod joins;
mod link;
mod properties;
mod replay;
mod status;
mod tokens;
