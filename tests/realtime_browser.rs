//! `CasinoRealtime` in headless Chrome against the real dev server, which the test command starts
//! (its address is baked in at build time as `DEVSERVER_URL`): joins, batches with the expected
//! keys, duplicates dropped, a denial reported with the server's reason, recovery after the
//! connection is dropped.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use casino_realtime::browser::CasinoRealtime;
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FIXTURES: &str = include_str!("fixtures/events.json");

fn server() -> &'static str {
    option_env!("DEVSERVER_URL")
        .expect("DEVSERVER_URL: run through scripts/test.sh, which starts the dev server")
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let window = web_sys::window().unwrap();
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

async fn post(path: &str, bearer: Option<&str>, body: Option<&str>) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    let headers = Object::new();
    Reflect::set(&headers, &"content-type".into(), &"application/json".into()).unwrap();
    if let Some(token) = bearer {
        Reflect::set(
            &headers,
            &"authorization".into(),
            &format!("Bearer {token}").into(),
        )
        .unwrap();
    }
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(&format!("{}{path}", server()), &init).unwrap();
    let response: web_sys::Response =
        JsFuture::from(web_sys::window().unwrap().fetch_with_request(&request))
            .await
            .unwrap()
            .unchecked_into();
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap_or_default();
    JSON::parse(&text).unwrap_or(JsValue::NULL)
}

async fn token(query: &str) -> String {
    let body = post(&format!("/_dev/token?{query}"), None, None).await;
    Reflect::get(&body, &"token".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// A fresh casino per test, so tests do not see each other's events.
fn casino(n: u8) -> String {
    format!(
        "0000000{n}-b0b0-4000-8000-{:012x}",
        (js_sys::Math::random() * 1e12) as u64
    )
}

/// A fixture event for `casino`.
fn event(name: &str, casino: &str) -> String {
    let all = JSON::parse(FIXTURES).unwrap();
    let payload = Reflect::get(&all, &name.into()).unwrap();
    Reflect::set(&payload, &"casino_id".into(), &casino.into()).unwrap();
    JSON::stringify(&payload).unwrap().as_string().unwrap()
}

async fn publish(casino: &str, name: &str, id: Option<&str>) {
    let service = token("role=service_role&staff_role=&casino_id=").await;
    let payload = event(name, casino);
    match id {
        None => {
            let body = format!(r#"{{"topic":"{casino}","event":"{name}","payload":{payload}}}"#);
            post("/realtime/v1/api/db/send", Some(&service), Some(&body)).await;
        }
        Some(id) => {
            let body = format!(
                r#"{{"messages":[{{"topic":"{casino}","event":"{name}","payload":{payload},"private":true,"id":"{id}"}}]}}"#
            );
            post("/realtime/v1/api/broadcast", Some(&service), Some(&body)).await;
        }
    }
}

/// The manager and what its callbacks received.
struct Probe {
    realtime: CasinoRealtime,
    batches: Rc<RefCell<Vec<JsValue>>>,
    statuses: Rc<RefCell<Vec<String>>>,
    errors: Rc<RefCell<Vec<JsValue>>>,
    _callbacks: Vec<Closure<dyn FnMut(JsValue)>>,
}

fn recorder<T: 'static>(
    into: &Rc<RefCell<Vec<T>>>,
    map: fn(JsValue) -> T,
) -> Closure<dyn FnMut(JsValue)> {
    let into = into.clone();
    Closure::new(move |value: JsValue| into.borrow_mut().push(map(value)))
}

async fn probe(casino: &str, token_casino: &str, staff: &str) -> Probe {
    let access = token(&format!("staff_role={staff}&casino_id={token_casino}")).await;
    let (batches, statuses, errors) = (Rc::default(), Rc::default(), Rc::default());
    let callbacks = vec![
        recorder(&batches, |v| v),
        recorder(&statuses, |v| v.as_string().unwrap()),
        recorder(&errors, |v| v),
    ];
    let options = Object::new();
    let ws = server().replace("http", "ws");
    for (key, value) in [
        ("url", JsValue::from(format!("{ws}/realtime/v1"))),
        ("apiKey", access.clone().into()),
        ("accessToken", access.into()),
        ("casinoId", casino.into()),
        ("onBatch", callbacks[0].as_ref().clone()),
        ("onStatus", callbacks[1].as_ref().clone()),
        ("onError", callbacks[2].as_ref().clone()),
    ] {
        Reflect::set(&options, &key.into(), &value).unwrap();
    }
    let realtime = CasinoRealtime::new(&options).unwrap();
    Probe {
        realtime,
        batches,
        statuses,
        errors,
        _callbacks: callbacks,
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

fn keys(batches: &[JsValue]) -> Vec<String> {
    let mut keys = Vec::new();
    for batch in batches {
        let actions: Array = Reflect::get(batch, &"actions".into()).unwrap().into();
        for action in actions.iter() {
            let key = Reflect::get(&action, &"queryKey".into()).unwrap();
            keys.push(JSON::stringify(&key).unwrap().as_string().unwrap());
        }
    }
    keys
}

#[wasm_bindgen_test]
async fn joins_a_private_channel_and_delivers_batches_with_the_expected_keys() {
    let casino = casino(1);
    let p = probe(&casino, &casino, "pit_boss").await;
    let _unsubscribe: Function = p.realtime.subscribe(None).unwrap().unchecked_into();
    until("connected", || {
        p.statuses.borrow().last().map(String::as_str) == Some("connected")
    })
    .await;
    sleep(100).await; // the join reply
    publish(&casino, "table.fill_requested", None).await;
    until("a batch", || !p.batches.borrow().is_empty()).await;
    let keys = keys(&p.batches.borrow());
    assert!(
        keys.contains(&format!(r#"["table-context","fills","{casino}"]"#)),
        "{keys:?}"
    );
    assert!(keys.contains(
        &r#"["table-context","table","55555555-5555-4555-8555-555555555555","custody"]"#.to_owned()
    ));
    let batch = &p.batches.borrow()[0];
    assert_eq!(
        Reflect::get(batch, &"reason".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("window")
    );
    p.realtime.close();
}

#[wasm_bindgen_test]
async fn duplicates_are_dropped() {
    let casino = casino(2);
    let p = probe(&casino, &casino, "pit_boss").await;
    let _unsubscribe = p.realtime.subscribe(None).unwrap();
    until("connected", || {
        p.statuses.borrow().last().map(String::as_str) == Some("connected")
    })
    .await;
    sleep(100).await;
    publish(&casino, "visit.checked_in", Some("same-id")).await;
    publish(&casino, "visit.checked_in", Some("same-id")).await;
    publish(&casino, "visit.checked_in", None).await; // same event, another meta.id
    sleep(200).await;
    p.realtime.flush();
    until("a batch", || !p.batches.borrow().is_empty()).await;
    let stats = p.realtime.stats();
    let number = |k: &str| Reflect::get(&stats, &k.into()).unwrap().as_f64().unwrap();
    assert_eq!(
        (
            number("eventsReceived"),
            number("applied"),
            number("duplicates")
        ),
        (3.0, 1.0, 2.0)
    );
    p.realtime.close();
}

#[wasm_bindgen_test]
async fn a_denial_is_reported_with_the_servers_reason() {
    let (casino, other) = (casino(3), casino(4));
    let p = probe(&casino, &other, "pit_boss").await;
    let _unsubscribe = p.realtime.subscribe(None).unwrap();
    until("denied", || {
        p.statuses.borrow().last().map(String::as_str) == Some("denied")
    })
    .await;
    let error = p.errors.borrow()[0].clone();
    let error: js_sys::Error = error.unchecked_into();
    assert_eq!(String::from(error.name()), "ChannelDeniedError");
    let message = String::from(error.message());
    let expected = format!(
        "Unauthorized: You do not have permissions to read from this Channel topic: {casino}"
    );
    assert!(message.contains(&expected), "{message}");
    assert_eq!(p.realtime.status(), "denied");
    p.realtime.close();
}

#[wasm_bindgen_test]
async fn a_dropped_connection_is_recovered_with_channels_rejoined() {
    let casino = casino(5);
    let p = probe(&casino, &casino, "pit_boss").await;
    let _list = p.realtime.subscribe(None).unwrap();
    let detail = Object::new();
    Reflect::set(&detail, &"resourceId".into(), &"table-7".into()).unwrap();
    let _detail = p.realtime.subscribe(Some(detail.unchecked_into())).unwrap();
    until("connected", || {
        p.statuses.borrow().last().map(String::as_str) == Some("connected")
    })
    .await;
    post("/_dev/faults/drop-connections", None, None).await;
    until("reconnecting", || {
        p.statuses.borrow().iter().any(|s| s == "reconnecting")
    })
    .await;
    // Wait on the socket count as well as the status: the drop may not have reached the
    // page yet when the server answers the fault's request.
    let reconnects = || {
        let stats = p.realtime.stats();
        Reflect::get(&stats, &"reconnects".into()).unwrap().as_f64()
    };
    until("connected again", || {
        p.statuses.borrow().last().map(String::as_str) == Some("connected")
            && reconnects() >= Some(1.0)
    })
    .await;
    sleep(200).await;
    let stats = p.realtime.stats();
    assert_eq!(
        Reflect::get(&stats, &"reconnects".into()).unwrap().as_f64(),
        Some(1.0)
    );
    let channels: Array = Reflect::get(&stats, &"channels".into()).unwrap().into();
    for channel in channels.iter() {
        assert_eq!(
            Reflect::get(&channel, &"state".into())
                .unwrap()
                .as_string()
                .as_deref(),
            Some("joined")
        );
    }
    publish(&casino, "table.deactivated", None).await;
    until("a batch after the reconnect", || {
        !p.batches.borrow().is_empty()
    })
    .await;
    p.realtime.close();
    assert_eq!(
        p.statuses.borrow().last().map(String::as_str),
        Some("closed")
    );
}

#[wasm_bindgen_test]
async fn a_callback_may_close_the_manager_and_what_it_throws_is_reported() {
    let casino = casino(6);
    let access = token(&format!("staff_role=pit_boss&casino_id={casino}")).await;
    let holder: Rc<RefCell<Option<CasinoRealtime>>> = Rc::default();
    let (errors, statuses): (Rc<RefCell<Vec<JsValue>>>, Rc<RefCell<Vec<String>>>) =
        (Rc::default(), Rc::default());
    let inside = holder.clone();
    // onBatch closes the manager from inside the callback, then throws.
    let on_batch =
        Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(move |_batch: JsValue| {
            if let Some(realtime) = inside.borrow().as_ref() {
                realtime.close();
            }
            Err(js_sys::Error::new("boom").into())
        });
    let (on_error, on_status) = (
        recorder(&errors, |v| v),
        recorder(&statuses, |v| v.as_string().unwrap()),
    );
    let options = Object::new();
    let ws = server().replace("http", "ws");
    for (key, value) in [
        ("url", JsValue::from(format!("{ws}/realtime/v1"))),
        ("apiKey", access.clone().into()),
        ("accessToken", access.into()),
        ("casinoId", casino.as_str().into()),
        ("onBatch", on_batch.as_ref().clone()),
        ("onError", on_error.as_ref().clone()),
        ("onStatus", on_status.as_ref().clone()),
    ] {
        Reflect::set(&options, &key.into(), &value).unwrap();
    }
    *holder.borrow_mut() = Some(CasinoRealtime::new(&options).unwrap());
    let _unsubscribe = holder.borrow().as_ref().unwrap().subscribe(None).unwrap();
    until("connected", || {
        statuses.borrow().last().map(String::as_str) == Some("connected")
    })
    .await;
    sleep(100).await;
    publish(&casino, "table.activated", None).await;
    until("the callback's error", || !errors.borrow().is_empty()).await;
    let error: js_sys::Error = errors.borrow()[0].clone().unchecked_into();
    assert_eq!(String::from(error.name()), "CallbackError");
    let member = |key: &str| Reflect::get(&error, &key.into()).unwrap();
    assert_eq!(member("callback").as_string().as_deref(), Some("onBatch"));
    assert!(!member("cause").is_undefined(), "what onBatch threw");
    assert_eq!(statuses.borrow().last().map(String::as_str), Some("closed"));
    assert_eq!(holder.borrow().as_ref().unwrap().status(), "closed");
}

#[wasm_bindgen_test]
async fn a_resumed_page_replaces_a_silent_connection_within_seconds() {
    let casino = casino(7);
    let p = probe(&casino, &casino, "pit_boss").await;
    let _unsubscribe = p.realtime.subscribe(None).unwrap();
    until("connected", || {
        p.statuses.borrow().last().map(String::as_str) == Some("connected")
    })
    .await;
    // The server stops answering heartbeats: the socket looks open but nothing proves it alive.
    post("/_dev/faults/heartbeats?answer=false", None, None).await;
    let document = web_sys::window().unwrap().document().unwrap();
    document
        .dispatch_event(&web_sys::Event::new("resume").unwrap())
        .unwrap();
    // The probe's 5 s, then a reconnect; without the resume it takes 25-50 s.
    let reconnected = || {
        let stats = p.realtime.stats();
        Reflect::get(&stats, &"reconnects".into()).unwrap().as_f64() == Some(1.0)
    };
    for _ in 0..400 {
        if reconnected() {
            break;
        }
        sleep(20).await;
    }
    post("/_dev/faults/heartbeats?answer=true", None, None).await;
    assert!(reconnected(), "replaced within 8 s of the resume");
    p.realtime.close();
}
