//! One session serving several clients (the tabs of a browser, docs/tabs.md): subscriptions, each client's own batches, status and errors, a client that goes.

use crate::common::fake_server::{config, Harness};
use crate::common::fixture;
use crate::support::{detail, list};
use casino_realtime::session::{ChannelState, Output, ResyncCause, SessionError, Status};

/// The keys one event makes, from a session of its own.
fn keys_of_event(event: &str) -> Vec<String> {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.push_event(&list(), event, &fixture(event), None);
    h.session.flush(h.clock());
    h.pump();
    h.keys_of(0)
}

/// What the session told `client` other than batches.
fn said_to(h: &Harness, client: u32) -> Vec<&Output> {
    h.for_clients
        .iter()
        .filter(|o| {
            matches!(o, Output::Status(c, _) | Output::Stale(c, _) | Output::Error(c, _) if *c == client)
        })
        .collect()
}

fn statuses_of(h: &Harness, client: u32) -> Vec<Status> {
    said_to(h, client)
        .into_iter()
        .filter_map(|o| match o {
            Output::Status(_, s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn subscriptions_are_ref_counted_with_a_leave_grace() {
    let mut h = Harness::new(config());
    let a = h.subscribe(Some("slip-1"));
    let b = h.subscribe(Some("slip-1"));
    let topic = Harness::topic(Some("slip-1"));
    assert_eq!(h.joins_of(&topic), 1, "one join for two subscribers");
    h.unsubscribe(a);
    h.unsubscribe(a);
    h.advance(5_000);
    assert!(h.leaves.is_empty(), "still joined for the other subscriber");
    // StrictMode: unmount and mount again within the grace: no leave, no rejoin.
    h.unsubscribe(b);
    let c = h.subscribe(Some("slip-1"));
    h.advance(5_000);
    assert!(h.leaves.is_empty());
    assert_eq!(h.joins_of(&topic), 1);
    h.unsubscribe(c);
    h.advance(5_000);
    assert_eq!(h.leaves, std::slice::from_ref(&topic));
    assert_eq!(h.state_of(&topic), None);
}

#[test]
fn each_client_gets_exactly_its_channels_events_once_over_one_connection() {
    let mut h = Harness::new(config());
    let floor = h.add_client();
    let table = h.add_client();
    assert_ne!(floor, table);
    h.subscribe_for(floor, None);
    h.subscribe_for(table, Some("table-1"));
    // A second component of the same tab on the same channel shares the join too.
    h.subscribe_for(table, Some("table-1"));
    assert_eq!(h.opens, 1, "one socket for every client");
    assert_eq!(
        (h.joins_of(&list()), h.joins_of(&detail("table-1"))),
        (1, 1)
    );

    // One event published to both feeds, and one only to the list feed.
    let fill = fixture("table.fill_requested");
    h.push_event(
        &list(),
        "table.fill_requested",
        &fill,
        Some(r#"{"id":"l1"}"#),
    );
    h.push_event(
        &detail("table-1"),
        "table.fill_requested",
        &fill,
        Some(r#"{"id":"d1"}"#),
    );
    let deactivated = fixture("table.deactivated");
    h.push_event(&list(), "table.deactivated", &deactivated, None);
    h.advance(1_000);

    // What a tab on its own would have got: the floor from both events, the table the fill.
    let fill_keys = keys_of_event("table.fill_requested");
    let mut alone = Harness::new(config());
    alone.subscribe(None);
    alone.push_event(&list(), "table.fill_requested", &fill, None);
    alone.push_event(&list(), "table.deactivated", &deactivated, None);
    alone.advance(1_000);
    let floor_alone = alone.keys_of(0);
    assert!(floor_alone.len() > fill_keys.len(), "the two events differ");
    assert_eq!(h.keys_of(floor), floor_alone, "the floor tab: both, once");
    assert_eq!(h.keys_of(table), fill_keys, "the table tab: the fill, once");
    assert!(h.batches.is_empty(), "client 0 subscribed nothing");
    let stats = h.session.stats_of(floor, h.clock()).pipeline;
    assert_eq!((stats.applied, stats.duplicates), (2, 1), "decoded once");

    // A reconnect's replay of what both had reaches neither again.
    h.drop_connection();
    h.advance(120_000);
    let before = (h.keys_of(floor).len(), h.keys_of(table).len());
    for (topic, id) in [(list(), "l1"), (detail("table-1"), "d1")] {
        let meta = format!(r#"{{"replayed":true,"id":"{id}"}}"#);
        h.push_event(&topic, "table.fill_requested", &fill, Some(&meta));
    }
    h.session.flush_for(floor, h.clock());
    h.session.flush_for(table, h.clock());
    h.pump();
    assert_eq!((h.keys_of(floor).len(), h.keys_of(table).len()), before);
}

#[test]
fn an_event_seen_first_on_another_tabs_channel_still_reaches_this_one() {
    let mut h = Harness::new(config());
    let floor = h.add_client();
    let table = h.add_client();
    h.subscribe_for(floor, None);
    h.subscribe_for(table, Some("table-1"));
    let fill = fixture("table.fill_requested");
    // The list copy first: new to the session, for the floor only.
    h.push_event(&list(), "table.fill_requested", &fill, None);
    h.advance(1_000);
    assert!(h.keys_of(table).is_empty());
    // The detail copy: a duplicate for the session, new to the table tab.
    h.push_event(&detail("table-1"), "table.fill_requested", &fill, None);
    h.advance(1_000);
    assert_eq!(h.keys_of(table), keys_of_event("table.fill_requested"));
    assert_eq!(h.keys_of(floor), keys_of_event("table.fill_requested"));
}

#[test]
fn a_refused_channel_is_news_only_to_the_clients_that_hold_it() {
    let mut h = Harness::new(config());
    let refused = detail("cage");
    let topic = refused.clone();
    h.join_policy = Box::new(move |t, _| {
        Some(if t == topic {
            Err("Unauthorized: You do not have permissions to read from this Channel topic".into())
        } else {
            Ok(())
        })
    });
    let floor = h.add_client();
    let cage = h.add_client();
    h.subscribe_for(floor, None);
    h.subscribe_for(cage, Some("cage"));
    h.advance(1_000);
    assert_eq!(h.state_of(&refused), Some(ChannelState::Denied));
    assert_eq!(h.session.status_of(floor), Status::Connected);
    assert_eq!(h.session.status_of(cage), Status::Denied);
    assert_eq!(statuses_of(&h, floor), [Status::Connected]);
    assert_eq!(statuses_of(&h, cage).last(), Some(&Status::Denied));
    let denied = |client| {
        said_to(&h, client)
            .into_iter()
            .filter(|o| matches!(o, Output::Error(_, SessionError::Denied { .. })))
            .count()
    };
    assert_eq!((denied(floor), denied(cage)), (0, 1));
    // Each sees only its own channels.
    let channels = |client| {
        h.session
            .stats_of(client, h.clock())
            .channels
            .into_iter()
            .map(|c| c.topic)
            .collect::<Vec<_>>()
    };
    assert_eq!(channels(floor), [list()]);
    assert_eq!(channels(cage), [refused]);
    assert_eq!(h.session.stale_since_of(floor), None);
    assert!(
        h.session.stale_since_of(cage).is_some(),
        "never joined: stale"
    );
}

#[test]
fn a_resync_reaches_every_client_of_the_channel_and_closes_the_gap_for_all() {
    let mut cfg = config();
    cfg.private = false; // no replay: every gap is resynced
    cfg.resync_jitter_ms = 0;
    let mut h = Harness::new(cfg);
    let a = h.add_client();
    let b = h.add_client();
    let c = h.add_client();
    h.subscribe_for(a, None);
    h.subscribe_for(b, None);
    h.subscribe_for(c, Some("table-1"));
    h.drop_connection();
    for client in [a, b, c] {
        assert!(h.session.stale_since_of(client).is_some(), "{client} stale");
    }
    h.advance(120_000);
    let resyncs = |client| {
        h.batches_of(client)
            .iter()
            .filter(|batch| batch.reason.as_str() == "resync")
            .count()
    };
    assert_eq!((resyncs(a), resyncs(b), resyncs(c)), (1, 1, 1));
    for client in [a, b, c] {
        assert_eq!(h.session.stale_since_of(client), None, "{client} fresh");
        assert_eq!(h.session.status_of(client), Status::Connected);
    }
    assert!(h.batches.is_empty(), "client 0 holds nothing");
}

#[test]
fn a_client_that_goes_drops_its_channels_and_nothing_else() {
    let mut h = Harness::new(config());
    let floor = h.add_client();
    let table = h.add_client();
    h.subscribe_for(floor, None);
    h.subscribe_for(table, None);
    h.subscribe_for(table, Some("table-1"));
    let fill = fixture("table.fill_requested");
    h.push_event(&detail("table-1"), "table.fill_requested", &fill, None);
    // The tab closes with a batch pending: it is dropped, not handed to anyone.
    h.session.remove_client(table, h.clock());
    h.pump();
    h.advance(10_000);
    assert!(h.keys_of(table).is_empty());
    assert!(h.keys_of(floor).is_empty(), "not the floor's channel");
    assert!(
        h.leaves.contains(&detail("table-1")),
        "left after the grace"
    );
    assert!(!h.leaves.contains(&list()), "still the floor's");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.status_of(table), Status::Closed, "not served");
    assert_eq!(h.session.subscribe_for(table, None, h.clock()), None);
    // The floor carries on; a new tab may take the freed place.
    h.push_event(&list(), "table.fill_requested", &fill, None);
    h.advance(1_000);
    assert_eq!(h.keys_of(floor), keys_of_event("table.fill_requested"));
    let again = h.add_client();
    assert_eq!(again, table, "the lowest free client");
    h.subscribe_for(again, None);
    assert_eq!(h.joins_of(&list()), 1, "joined already: no second join");
    assert_eq!(h.session.status_of(again), Status::Connected);
    assert_eq!(h.session.stale_since_of(again), None);
}

#[test]
fn at_most_64_clients_share_a_session() {
    let mut h = Harness::new(config());
    let added: Vec<u32> = (1..64).map(|_| h.add_client()).collect();
    assert_eq!(added, (1..64).collect::<Vec<_>>());
    assert_eq!(h.session.add_client(h.clock()), None);
}

#[test]
fn a_tab_resuming_after_its_host_went_is_resynced_not_replayed() {
    let mut h = Harness::new(config());
    let a = h.add_client();
    let missed = h.clock().wall - 5_000;
    h.session.resume_for(a, None, missed, h.clock());
    h.pump();
    // Private, yet no replay asked: this session cannot tell what the old host applied.
    let (_, join) = h.joins.last().unwrap();
    let replay = join
        .get("config")
        .and_then(|c| c.get("broadcast"))
        .and_then(|b| b.get("replay"));
    assert_eq!(replay, None);
    assert_eq!(h.session.stale_since_of(a), Some(missed), "stale since");
    h.advance(5_000);
    let resyncs = |h: &Harness, client| {
        h.batches_of(client)
            .iter()
            .filter(|batch| batch.reason.as_str() == "resync")
            .count()
    };
    assert_eq!(resyncs(&h, a), 1);
    assert_eq!(h.session.stale_since_of(a), None, "fresh once resynced");
    let stats = h.session.stats_of(a, h.clock());
    assert_eq!(
        stats.channels[0].last_resync,
        Some(ResyncCause::HostChanged)
    );

    // A second tab resuming onto the joined channel: it alone refetches.
    let b = h.add_client();
    h.session.resume_for(b, None, missed, h.clock());
    h.pump();
    h.advance(5_000);
    assert_eq!((resyncs(&h, a), resyncs(&h, b)), (1, 1));
    assert_eq!(h.joins_of(&list()), 1);
    // A tab that did not come from another host is not resynced.
    let c = h.add_client();
    h.subscribe_for(c, None);
    h.advance(5_000);
    assert_eq!(resyncs(&h, c), 0);
}
