//! Access tokens: `getAccessToken` asked once for all channels, its failures backed off, `setAuth`, tokens that expire while joined or before a rejoin, clocks that disagree with the issuer.

use crate::common;
use crate::common::fake_server::{config, session, Harness};
use crate::support::{detail, list, only_token, refuse_topics, Feed, UNAUTHORIZED};
use casino_realtime::json::Value;
use casino_realtime::session::{ChannelState, SessionError, Status};

/// Tokens `t{n}`, each good for 20 s from when the app handed it out; the server closes a
/// joined channel whose token expired and refuses joins with one, as Supabase does.
struct ShortTokens {
    expiry: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
    now: std::rc::Rc<std::cell::Cell<u64>>,
    answered: u32,
}

impl ShortTokens {
    const TTL_MS: u64 = 20_000;

    fn install(h: &mut Harness) -> Self {
        let tokens = ShortTokens {
            expiry: Default::default(),
            now: std::rc::Rc::new(std::cell::Cell::new(h.now)),
            answered: 0,
        };
        let (expiry, now) = (tokens.expiry.clone(), tokens.now.clone());
        h.join_policy = Box::new(move |_, payload| {
            let token = payload.get("access_token").and_then(Value::as_str)?;
            Some(match ShortTokens::number(token) {
                Some(n) if expiry.borrow()[n] > now.get() => Ok(()),
                _ => Err("InvalidJWTToken: Token has expired 1 seconds ago".into()),
            })
        });
        tokens
    }

    fn number(token: &str) -> Option<usize> {
        token.strip_prefix('t')?.parse().ok()
    }

    /// The token each joined channel holds last: its join's, or a later `access_token`'s.
    fn held(h: &Harness, topic: &str) -> Option<usize> {
        let joined = h
            .joins
            .iter()
            .filter(|(t, _)| t == topic)
            .filter_map(|(_, p)| {
                p.get("access_token")
                    .and_then(Value::as_str)
                    .and_then(Self::number)
            });
        let pushed = h
            .access_tokens
            .iter()
            .filter(|(t, _)| t == topic)
            .filter_map(|(_, token)| Self::number(token));
        joined.chain(pushed).max()
    }

    /// Runs before each event: answers token requests, expires tokens.
    fn step(&mut self, h: &mut Harness) {
        self.now.set(h.now);
        if h.token_requests > self.answered {
            self.answered = h.token_requests;
            let n = {
                let mut expiry = self.expiry.borrow_mut();
                expiry.push(h.now + Self::TTL_MS);
                expiry.len() - 1
            };
            h.give_token(Ok(&format!("t{n}")));
        }
        let mut topics: Vec<String> = h.joined.keys().cloned().collect();
        topics.sort();
        for topic in topics {
            let expired = Self::held(h, &topic).map_or(true, |n| self.expiry.borrow()[n] <= h.now);
            if expired {
                h.server_shutdown(&topic, "Token has expired 0 seconds ago");
            }
        }
    }
}

/// An unsigned JWT with only `exp` (unix seconds): what the session reads of a token.
fn jwt_expiring(exp_s: i64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let claims = format!(r#"{{"exp":{exp_s}}}"#);
    let mut out = String::from("eyJhbGciOiJIUzI1NiJ9.");
    for chunk in claims.as_bytes().chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out + ".sig"
}

#[test]
fn an_expired_token_at_join_is_refreshed_once_for_all_channels() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, payload| {
        let token = payload
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Some(if token == "token-2" {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 3 seconds ago".into())
        })
    });
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    assert_eq!(h.token_requests, 1, "single flight");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(h.statuses.last(), Some(&Status::AwaitingToken));
    h.give_token(Ok("token-2"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        h.state_of(&Harness::topic(Some("table-1"))),
        Some(ChannelState::Joined)
    );
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
}

#[test]
fn a_failed_or_useless_refresh_is_retried_with_backoff_not_denied() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str);
        Some(if token == Some("good") {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 1 seconds ago".into())
        })
    });
    h.subscribe(None);
    assert_eq!(h.token_requests, 1);
    h.give_token(Err("offline"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert!(h
        .errors
        .iter()
        .any(|e| matches!(e, SessionError::Token { reason } if reason == "offline")));
    h.advance(2_000);
    assert_eq!(h.token_requests, 2, "asked again after a backoff");
    let told = |h: &Harness| {
        let tokens = h.errors.iter();
        tokens
            .filter(|e| matches!(e, SessionError::Token { .. }))
            .count()
    };
    h.give_token(Ok("token-1"));
    // The token source is in trouble since "offline": one episode, told once.
    assert_eq!(told(&h), 1, "{:?}", h.errors);
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(
        h.joins.len(),
        1,
        "the same expired token is not tried again"
    );
    h.advance(5_000);
    assert_eq!(h.token_requests, 3);
    // A fresh token that is expired too: asked again, after a backoff.
    h.give_token(Ok("token-2"));
    assert_eq!(h.joins.len(), 2);
    assert_eq!(h.token_requests, 3, "not at once");
    h.advance(5_000);
    assert_eq!(h.token_requests, 4);
    h.give_token(Ok("good"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
    assert!(!h.statuses.contains(&Status::Denied));
    assert_eq!(
        told(&h),
        1,
        "one episode, however many failures: {:?}",
        h.errors
    );
    // The join worked: the episode is over, and the next trouble is a new one, told again.
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.advance(1_000);
    h.give_token(Err("offline again"));
    assert_eq!(told(&h), 2, "{:?}", h.errors);
}

#[test]
fn set_auth_sends_the_new_token_to_joined_channels() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.session.set_auth("token-9".into(), h.clock());
    h.session.set_auth("token-9".into(), h.clock());
    h.pump();
    assert_eq!(h.access_tokens, [(list(), "token-9".to_owned())]);
}

#[test]
fn with_only_a_token_callback_the_first_join_waits_for_the_token() {
    let mut h = Harness::with_session(
        common::fake_server::session(config(), None, true),
        casino_realtime::protocol::Vsn::V2,
    );
    h.subscribe(None);
    assert_eq!((h.token_requests, h.joins.len()), (1, 0));
    h.give_token(Ok("from-app"));
    assert_eq!(
        h.joins[0].1.get("access_token").and_then(Value::as_str),
        Some("from-app")
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn a_token_request_that_never_answers_is_given_up_and_late_answers_ignored() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| {
        Some(Err(
            "InvalidJWTToken: Token has expired 1 seconds ago".into()
        ))
    });
    h.subscribe(None);
    let first = h.token_request;
    h.advance(10_500);
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert!(h
        .errors
        .iter()
        .any(|e| matches!(e, SessionError::Token { .. })));
    let joins = h.joins.len();
    h.session.token_result(first, Ok("late".into()), h.clock());
    h.pump();
    assert_eq!(h.joins.len(), joins, "the late answer changes nothing");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
}

#[test]
fn a_later_expiry_asks_the_app_again() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.give_token(Ok("token-2"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    h.drop_connection();
    h.advance(120_000);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.token_requests, 2, "not denied: the app is asked again");
    h.give_token(Ok("token-3"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn an_expired_token_without_get_access_token_waits_for_set_auth() {
    let mut h = Harness::with_session(
        session(config(), Some("token-1"), false),
        casino_realtime::protocol::Vsn::V2,
    );
    h.subscribe(None);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(h.session.status(), Status::AwaitingToken);
    assert!(
        h.errors
            .iter()
            .any(|e| matches!(e, SessionError::Token { reason } if reason.contains("setAuth"))),
        "{:?}",
        h.errors
    );
    h.advance(60 * 60_000);
    assert_eq!(h.joins.len(), 1, "nothing to join with");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    assert_eq!(h.joins.len(), 2);
    assert_eq!(
        h.joins[1].1.get("access_token").and_then(Value::as_str),
        Some("token-2")
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Connected);
}

#[test]
fn get_access_token_is_called_once_whatever_the_order_of_refusals_and_answers() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = only_token(
        "token-2",
        "InvalidJWTToken: Token has expired 3 seconds ago",
    );
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    // The list's refusal comes first, at 5 s; the app answers at once; the detail's refusal
    // of the old token arrives afterwards, at 10 s.
    h.advance(5_000);
    assert_eq!(h.token_requests, 1);
    h.give_token(Ok("token-2"));
    h.advance(30_000);
    assert_eq!(h.token_requests, 1, "one request for both channels");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.state_of(&detail("table-1")), Some(ChannelState::Joined));
}

#[test]
fn a_token_changed_during_a_join_is_given_to_the_channel_once_joined() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = refuse_topics(vec![detail("a")]);
    h.subscribe(Some("a")); // refused: the socket sleeps 5 s
    h.subscribe(None); // its reply waits behind that
    h.advance(1_000);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(10_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert!(
        h.access_tokens.contains(&(list(), "token-2".to_owned())),
        "{:?}",
        h.access_tokens
    );
}

#[test]
fn a_pushed_token_that_expires_asks_the_app_instead_of_rejoining_with_it() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    let joins = h.joins.len();
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(
        h.token_requests, 1,
        "the channel held token-2, which expired"
    );
    assert_eq!(h.joins.len(), joins, "not rejoined with the expired token");
}

#[test]
fn set_auth_while_a_refusal_is_on_its_way_tries_the_new_token_at_once() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = only_token("token-2", UNAUTHORIZED);
    h.subscribe(Some("d"));
    h.advance(2_000);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(5_000);
    assert_eq!(h.state_of(&detail("d")), Some(ChannelState::Joined));
    assert!(h.errors.is_empty(), "not reported denied: {:?}", h.errors);
}

#[test]
fn a_channel_subscribed_after_a_failed_refresh_gets_a_token_and_joins() {
    let mut h = Harness::new(config());
    let good = std::rc::Rc::new(std::cell::Cell::new(false));
    let ok = good.clone();
    h.join_policy = Box::new(move |_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str);
        // token-1 until it expires, then only the fresh one.
        let allowed = if ok.get() { "fresh" } else { "token-1" };
        Some(if token == Some(allowed) {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 1 seconds ago".into())
        })
    });
    let l = h.subscribe(None);
    good.set(true);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.give_token(Err("offline"));
    h.unsubscribe(l);
    h.advance(120_000);
    h.subscribe(Some("d"));
    for _ in 0..120 {
        if h.token_requests > 0 && h.state_of(&detail("d")) == Some(ChannelState::AwaitingToken) {
            h.give_token(Ok("fresh"));
        }
        h.advance(1_000);
    }
    assert_eq!(h.state_of(&detail("d")), Some(ChannelState::Joined));
}

#[test]
fn short_lived_tokens_among_drops_never_read_degraded_nor_resync() {
    let mut h = Harness::with_session(session(config(), None, true), config().vsn);
    let mut tokens = ShortTokens::install(&mut h);
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    let mut feed = Feed::new(0, 0);
    feed.run(&mut h, 5, 120_000, |h, elapsed| {
        tokens.step(h);
        if elapsed % 4_000 == 3_000 {
            h.drop_connection();
        }
    });
    for _ in 0..100 {
        h.advance(200);
        tokens.step(&mut h);
    }
    h.session.flush(h.clock());
    h.pump();
    assert!(
        tokens.answered >= 6,
        "{} tokens handed out",
        tokens.answered
    );
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert!(
        !h.statuses.contains(&Status::Degraded),
        "expiring tokens are no failure: {:?}",
        h.statuses
    );
    assert_eq!(h.resyncs(), 0, "recovered by replay");
    assert_eq!(h.session.status(), Status::Connected);
}

#[test]
fn a_token_past_its_exp_is_renewed_before_the_rejoin_not_refused_by_the_server() {
    let mut h = Harness::new(config());
    let exp = h.clock().wall / 1000 + 4;
    h.give_token(Ok(&jwt_expiring(exp)));
    h.session.set_auth(jwt_expiring(exp), h.clock());
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    h.advance(1_000);
    assert_eq!(h.session.status(), Status::Connected);
    // Supabase answers a join with an expired token after 5 s, one join at a time.
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(move |_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str)?;
        Some(
            if token.contains(".sig") && token != jwt_expiring(exp + 3600) {
                Err("InvalidJWTToken: Token has expired 5 seconds ago".into())
            } else {
                Ok(())
            },
        )
    });
    // Down across the expiry (a laptop lid closed): the session comes back after it.
    h.server_up = false;
    h.drop_connection();
    let requests = h.token_requests;
    h.advance(5_000);
    h.server_up = true;
    let back = h.now;
    while h.session.status() != Status::Connected && h.now < back + 60_000 {
        if h.token_requests > requests && h.access_tokens.is_empty() {
            h.give_token(Ok(&jwt_expiring(exp + 3600)));
        }
        h.advance(100);
    }
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        h.now - back <= 2_000,
        "connected {} ms after the server came back",
        h.now - back
    );
    let stale = jwt_expiring(exp);
    let rejoins_with_stale = h
        .joins
        .iter()
        .filter(|(_, p)| p.get("access_token").and_then(Value::as_str) == Some(stale.as_str()))
        .count();
    assert_eq!(
        rejoins_with_stale, 3,
        "only the first joins carried the old token"
    );
}

#[test]
fn a_browser_clock_hours_ahead_still_joins_with_what_get_access_token_gives() {
    let mut h = Harness::new(config());
    // The browser's clock runs 2 h ahead of the issuer's and the server's.
    h.browser_skew = 2 * 3600 * 1000;
    let exp = h.true_time() / 1000 + 3600;
    h.session.set_auth(jwt_expiring(exp), h.clock());
    h.subscribe(None);
    for _ in 0..50 {
        if h.session.status() == Status::Connected {
            break;
        }
        // The app's getAccessToken gives the token it holds, valid by the issuer's clock.
        h.give_token(Ok(&jwt_expiring(exp)));
        h.advance(100);
    }
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        h.token_requests <= 1,
        "{} token requests for a token the local clock calls expired",
        h.token_requests
    );
    assert!(
        !h.errors
            .iter()
            .any(|e| matches!(e, SessionError::Token { .. })),
        "{:?}",
        h.errors
    );
}

/// Answers every token request with a fresh token (`t1`, `t2`, ...) as it comes, advancing
/// `ms` in steps of 100 ms; returns when each request was made (ms into the run).
fn answer_tokens_for(h: &mut Harness, ms: u64) -> Vec<u64> {
    let (start, mut answered, mut asked) = (h.now, 0, Vec::new());
    while h.now < start + ms {
        if h.token_requests > answered {
            answered = h.token_requests;
            asked.push(h.now - start);
            h.give_token(Ok(&format!("t{answered}")));
        }
        h.advance(100);
    }
    asked
}

/// A `getAccessToken` that keeps handing back tokens the server refuses as expired (its 5 s
/// delay included): within 30 s the status is `awaiting-token` (never `connecting` after the
/// first refusal), the app is told once, and each new token is tried once, on a backoff that
/// grows. Before: `connecting` for ever, 7 joins and no error.
#[test]
fn a_token_source_that_gives_expired_tokens_ends_in_awaiting_token_told_once() {
    let mut h = Harness::with_session(session(config(), None, true), config().vsn);
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(|_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str)?;
        Some(match token {
            "good" | "good-2" => Ok(()),
            _ => Err("InvalidJWTToken: Token has expired 12 seconds ago".into()),
        })
    });
    h.subscribe(None);
    let asked = answer_tokens_for(&mut h, 30_000);
    let told: Vec<&SessionError> = h
        .errors
        .iter()
        .filter(|e| matches!(e, SessionError::Token { .. }))
        .collect();
    assert_eq!(told.len(), 1, "told once: {told:?}");
    assert!(
        told[0]
            .to_string()
            .contains("getAccessToken gave a token the server refused"),
        "{}",
        told[0]
    );
    assert_eq!(h.session.status(), Status::AwaitingToken);
    let first = h.statuses.iter().position(|s| *s == Status::AwaitingToken);
    assert!(
        first.is_some_and(|i| h.statuses[i..].iter().all(|s| *s == Status::AwaitingToken)),
        "{:?}",
        h.statuses
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    // One join per token, each token after a longer wait than the last.
    assert_eq!(h.joins.len(), asked.len(), "asked at {asked:?}");
    assert!(asked.len() <= 6, "asked at {asked:?}");
    let waits: Vec<u64> = asked.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        waits.windows(2).all(|w| w[1] + 500 >= w[0]),
        "waits {waits:?}"
    );
    // A token that works ends the episode; the hourly expiry of a proven token is no trouble.
    while h.token_requests as usize == asked.len() {
        h.advance(1_000);
    }
    h.give_token(Ok("good"));
    assert_eq!(h.session.status(), Status::Connected);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.give_token(Ok("good-2"));
    h.advance(10_000);
    assert_eq!(h.session.status(), Status::Connected);
    let told = h
        .errors
        .iter()
        .filter(|e| matches!(e, SessionError::Token { .. }))
        .count();
    assert_eq!(told, 1, "still once");
}

/// Without `getAccessToken`, `setAuth` tokens that are expired too: told once for the episode,
/// not once per token.
#[test]
fn expired_set_auth_tokens_are_one_episode() {
    let mut h = Harness::with_session(session(config(), Some("old"), false), config().vsn);
    h.join_policy = Box::new(|_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str)?;
        Some(if token == "good" {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 1 seconds ago".into())
        })
    });
    h.subscribe(None);
    h.advance(1_000);
    for stale in ["stale-1", "stale-2"] {
        h.session.set_auth(stale.into(), h.clock());
        h.pump();
        h.advance(1_000);
    }
    let tokens = |h: &Harness| {
        h.errors
            .iter()
            .filter(|e| matches!(e, SessionError::Token { .. }))
            .count()
    };
    assert_eq!(tokens(&h), 1);
    assert_eq!(h.session.status(), Status::AwaitingToken);
    h.session.set_auth("good".into(), h.clock());
    h.pump();
    assert_eq!(h.session.status(), Status::Connected);
}

#[test]
fn a_dead_network_reads_degraded_even_during_token_trouble() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str);
        Some(match token {
            Some("good") => Ok(()),
            _ => Err("InvalidJWTToken: Token has expired 1 seconds ago".into()),
        })
    });
    h.subscribe(None);
    h.give_token(Ok("stale"));
    let asked = h.token_requests;
    while h.token_requests == asked {
        h.advance(100);
    }
    assert_eq!(
        h.statuses.last(),
        Some(&Status::AwaitingToken),
        "in trouble"
    );
    // A token that may work; the network dies before its join is answered.
    h.server_up = false;
    h.drop_connection();
    h.give_token(Ok("good"));
    h.advance(30_000);
    assert_eq!(
        h.statuses.last(),
        Some(&Status::Degraded),
        "{:?}",
        h.statuses
    );
    h.server_up = true;
    h.advance(60_000);
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
}
