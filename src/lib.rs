//! casino-realtime: Supabase Realtime events in, TanStack Query cache actions out.
//!
//! Everything outside `browser` is sans-IO (docs/design.md): it takes inputs and a clock and returns
//! outputs, and is tested natively. `browser` (wasm32 only) moves bytes, timers and callbacks.

pub mod alloc;
pub mod audience;
pub mod batch;
pub mod cache;
pub mod catalog;
pub mod clock;
pub mod dedup;
pub mod errors;
pub mod inspect;
pub mod json;
pub mod options;
pub mod pipeline;
pub mod protocol;
pub mod session;
pub mod share;

#[cfg(target_arch = "wasm32")]
pub mod browser;
