//! JS calls that may throw, made so that no path leaks a slot of wasm-bindgen's value table.
//!
//! With wasm-bindgen 0.2.130, a `catch` import that returns a JS value leaks one slot of the
//! value table every time the call throws (measured: a million payloads whose `toJSON` throws
//! grew the table by a million slots; a million option getters that throw, the same). So:
//! `JSON.stringify` is imported to return a Rust string (no slot at all), and property reads
//! and callback calls that may run app code go through two lines of JS that catch there and
//! return `[ok, value]`, a call that does not throw.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
export function try_get(target, key) { try { return [true, Reflect.get(target, key)]; } catch (e) { return [false, e]; } }
export function try_call(f, arg) { try { return [true, f.call(undefined, arg)]; } catch (e) { return [false, e]; } }
export function try_call3(f, a, b, c) { try { return [true, f.call(undefined, a, b, c)]; } catch (e) { return [false, e]; } }
const ignore = () => {};
export function ignore_fn() { return ignore; }
")]
extern "C" {
    fn try_get(target: &JsValue, key: &str) -> Array;
    fn try_call(f: &Function, arg: &JsValue) -> Array;
    fn try_call3(f: &Function, a: &JsValue, b: &JsValue, c: &JsValue) -> Array;
    /// A JS function that does nothing.
    #[wasm_bindgen(js_name = ignore_fn)]
    pub fn ignore() -> Function;
}

#[wasm_bindgen]
extern "C" {
    /// `JSON.stringify(value)`: `None` for what JSON cannot hold (`undefined`, a function, a
    /// symbol); `Err` with what it threw (a cycle, a BigInt, a getter or `toJSON` that throws).
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = stringify)]
    pub fn stringify(value: &JsValue) -> Result<Option<String>, JsValue>;
}

fn outcome(pair: Array) -> Result<JsValue, JsValue> {
    let value = pair.get(1);
    if pair.get(0).as_bool() == Some(true) {
        Ok(value)
    } else {
        Err(value)
    }
}

/// `target[key]` (an object), or what its getter threw.
pub fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    outcome(try_get(target, key))
}

/// `f(arg)`, or what it threw.
pub fn call(f: &Function, arg: &JsValue) -> Result<JsValue, JsValue> {
    outcome(try_call(f, arg))
}

/// `f(a, b, c)`, or what it threw.
pub fn call3(f: &Function, a: &JsValue, b: &JsValue, c: &JsValue) -> Result<JsValue, JsValue> {
    outcome(try_call3(f, a, b, c))
}
