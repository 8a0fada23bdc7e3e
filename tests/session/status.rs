//! What the app is told: the status, `staleSince` and `stats()` of each channel, and the poll while stale.

use crate::common::fake_server::{config, Harness};
use crate::support::{detail, event_at, list, stale_of, UNAUTHORIZED};
use casino_realtime::session::{ChannelState, Status};

#[test]
fn a_channel_is_stale_until_joined_and_after_a_loss_until_its_gap_is_replayed() {
    let mut h = Harness::new(config());
    // Joins are held back: subscribed but not joined is stale, since the subscription.
    h.join_policy = Box::new(|_, _| None);
    let subscribed = h.clock().wall;
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), Some(subscribed));
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(subscribed));
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(15_000); // the unanswered join is given up and retried: now answered
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(stale_of(&h, &list()), None, "joined, nothing missed");
    assert_eq!(
        h.stale,
        [Some(subscribed), None],
        "reported when it went stale and fresh"
    );

    // A lost socket: stale from the last frame received, through the rejoin, until the replay
    // settles.
    let payload = event_at("table.deactivated", "2025-12-20T10:20:00Z");
    h.push_event(
        &list(),
        "table.deactivated",
        &payload,
        Some(r#"{"id":"m1"}"#),
    );
    let last_frame = h.clock().wall;
    h.server_up = false;
    h.drop_connection();
    assert_eq!(stale_of(&h, &list()), Some(last_frame));
    h.advance(5_000);
    assert_eq!(
        stale_of(&h, &list()),
        Some(last_frame),
        "the time does not move while down"
    );
    h.server_up = true;
    h.advance(1_500);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        stale_of(&h, &list()),
        Some(last_frame),
        "joined, but the replay is not settled"
    );
    h.advance(5_000);
    assert_eq!(stale_of(&h, &list()), None, "replayed");
    assert_eq!(h.stale.last(), Some(&None));
}

#[test]
fn refused_and_token_starved_channels_stay_stale_and_the_manager_reports_the_oldest() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| {
        if topic.ends_with(":vault") {
            Some(Err(
                "Unauthorized: You do not have permissions to read from this Channel topic: x"
                    .into(),
            ))
        } else {
            Some(Ok(()))
        }
    });
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), None);
    h.advance(1_000);
    let refused_at = h.clock().wall;
    let vault_id = h.subscribe(Some("vault"));
    let vault = Harness::topic(Some("vault"));
    assert_eq!(h.state_of(&vault), Some(ChannelState::Denied));
    assert_eq!(
        stale_of(&h, &vault),
        Some(refused_at),
        "refused: never vouched for"
    );
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(refused_at));
    h.advance(60_000);
    assert_eq!(stale_of(&h, &vault), Some(refused_at));

    // The list channel's token expires and nobody can give another: stale from the close.
    let expired_at = h.clock().wall;
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(stale_of(&h, &list()), Some(expired_at));
    assert_eq!(
        h.session.stats(h.clock()).stale_since,
        Some(refused_at),
        "the oldest"
    );
    // Once the refused channel is no longer wanted, the manager is stale for the list only.
    h.unsubscribe(vault_id);
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(expired_at));
    // A fresh token: joined again, the gap replayed, fresh.
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(10_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.stats(h.clock()).stale_since, None);
}

#[test]
fn a_gap_that_cannot_be_replayed_is_stale_until_its_resync() {
    let mut config = config();
    config.private = false;
    let mut h = Harness::new(config);
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), None);
    let lost = h.clock().wall;
    h.server_up = false;
    h.drop_connection();
    h.advance(3_000);
    assert_eq!(stale_of(&h, &list()), Some(lost));
    h.server_up = true;
    h.advance(2_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    // A public channel cannot replay: its resync goes into the window, and it is fresh.
    assert_eq!(h.resyncs(), 1);
    assert_eq!(stale_of(&h, &list()), None);
    h.advance(1_000);
    assert_eq!(
        h.batches.last().map(|b| b.reason),
        Some(casino_realtime::batch::BatchReason::Resync)
    );
}

#[test]
fn while_stale_a_poll_batch_refetches_what_the_channels_feed_every_period_and_stops_when_fresh() {
    use casino_realtime::batch::BatchReason;
    let polls = |h: &Harness| {
        h.batches
            .iter()
            .filter(|b| b.reason == BatchReason::Poll)
            .count()
    };
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    h.advance(9_000);
    assert_eq!(polls(&h), 0, "not before a whole period");
    h.advance(2_000);
    assert_eq!(polls(&h), 1);
    let poll = h
        .batches
        .iter()
        .find(|b| b.reason == BatchReason::Poll)
        .unwrap();
    let families: Vec<String> = poll
        .actions
        .iter()
        .map(|a| a.key().0.len().to_string())
        .collect();
    assert!(
        families.iter().all(|n| n == "1"),
        "key families, not keys: {families:?}"
    );
    assert!(poll.actions.len() >= 6, "every family the rules write");
    h.advance(20_000);
    assert_eq!(polls(&h), 3, "every 10 s while stale");
    h.server_up = true;
    h.advance(8_000);
    assert_eq!(h.session.stats(h.clock()).stale_since, None, "fresh again");
    let after = polls(&h);
    h.advance(60_000);
    assert_eq!(polls(&h), after, "no polling once fresh");

    // `0` turns it off.
    let mut config = config();
    config.fallback_poll_ms = 0;
    let mut h = Harness::new(config);
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    h.advance(60_000);
    assert_eq!(polls(&h), 0);
}

#[test]
fn connected_means_every_subscribed_channel_is_joined() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| None); // joins unanswered for now
    h.subscribe(None);
    assert!(h.socket.is_some());
    assert_eq!(
        h.session.status(),
        Status::Connecting,
        "the socket is open, nothing joined"
    );
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(60_000);
    assert_eq!(h.session.status(), Status::Connected);
}

#[test]
fn a_first_connect_whose_joins_answer_one_by_one_never_reads_reconnecting() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| (topic == list()).then_some(Ok(())));
    h.subscribe(None);
    h.subscribe(Some("table-7"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.state_of(&detail("table-7")), Some(ChannelState::Joining));
    assert_eq!(
        h.session.status(),
        Status::Connecting,
        "nothing was ever lost: the second join is a first join"
    );
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(60_000);
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        !h.statuses.contains(&Status::Reconnecting),
        "{:?}",
        h.statuses
    );
}

#[test]
fn a_refused_list_feed_beside_a_live_detail_reads_partial_with_each_channels_state() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| {
        Some(if topic == list() {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    });
    h.subscribe(None);
    h.subscribe(Some("table-7"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    assert_eq!(h.state_of(&detail("table-7")), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Partial);
    let stats = h.session.stats(h.clock());
    let refused = stats.channels.iter().find(|c| c.topic == list()).unwrap();
    assert_eq!(refused.reason.as_deref(), Some(UNAUTHORIZED));
}

#[test]
fn with_nothing_subscribed_the_status_reads_connecting() {
    let mut h = Harness::new(config());
    let id = h.subscribe(None);
    assert_eq!(h.session.status(), Status::Connected);
    h.unsubscribe(id);
    h.advance(5_000);
    assert_eq!(h.session.status(), Status::Connecting);
}

#[test]
fn the_first_refusal_shows_at_once_while_other_refused_joins_are_still_queued() {
    // A token of another casino and many channels: Supabase answers the refusals 5 s apart.
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(|_, _| Some(Err(UNAUTHORIZED.into())));
    h.subscribe(None);
    for r in ["a", "b", "c", "d", "e"] {
        h.subscribe(Some(r));
    }
    h.advance(5_500);
    assert_eq!(
        h.session.status(),
        Status::Denied,
        "not connecting for 30 s"
    );
    h.advance(30_000);
    assert_eq!(h.errors.len(), 6);
    assert_eq!(h.session.status(), Status::Denied);
}
