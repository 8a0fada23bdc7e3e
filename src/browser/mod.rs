//! The wasm32 boundary: converts JS values to and from the core's inputs and outputs, and
//! nothing else. No decision is made here; everything that decides is in the sans-IO modules and
//! tested natively.
//!
//! Values cross as JSON text: JS `JSON.stringify`s payloads in, and `JSON.parse`s actions out.
//! That keeps serde out of the `.wasm` (docs/design.md, size facts) and is fast in every engine.
//!
//! Rule for contributors: never call user JS while a `RefCell` borrow is alive; collect what
//! is to be delivered, release state, then call (see docs/style.md §7).

mod callbacks;
mod driver;
mod error;
mod js;
mod options;
mod owned;
mod page;
mod plan;
mod realtime;
mod session_host;
mod tab_client;
mod types;

pub use plan::{plan_cache_actions, CacheRules};

/// Size classes in place of std's dlmalloc: smaller and faster for this workload (src/alloc.rs).
#[global_allocator]
static ALLOCATOR: crate::alloc::wasm::WasmAlloc = crate::alloc::wasm::WasmAlloc::new();
pub use realtime::CasinoRealtime;
