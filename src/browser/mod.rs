//! The wasm32 boundary helpers the package's two modules share: the session host (`host/`) and
//! the cache planner (`plan/`). They convert and execute; nothing here decides.
//!
//! Values cross as JSON text: JS `JSON.stringify`s payloads in, and `JSON.parse`s what comes out.
//! That keeps serde out of the `.wasm` (docs/design.md, size facts) and is fast in every engine.
//!
//! Rule for contributors: never call JS while a `RefCell` borrow is alive; collect what is to be
//! delivered, release state, then call (see docs/style.md §7).

pub mod error;
pub mod js;
pub mod owned;
mod types;
