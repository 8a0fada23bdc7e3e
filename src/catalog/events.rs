//! The 24 events of INT-002, field for field.
//!
//! Where the catalog says only `string` for a field that is a foreign key (`table_id`,
//! `casino_id` in the table events, `preferred_table_id`), it is read as a uuid, as the catalog's
//! policy requires keys to mirror the tables' FK types. Identifiers the catalog does not call
//! uuids (`request_id` "idempotency key", `drop_box_id`, `pit_id`, `slot_id`) are any string.
//! Fields marked `int` in the catalog, counts, sequence numbers and cents are integers; other
//! numbers (`amount`, `average_bet`, minutes and durations) are any finite number.
//! `finance.outbox_processed` is taken as its schema block prints it, without `casino_id` (it is
//! a worker-monitoring event on an internal channel): a `casino_id` that is present must be a uuid
//! and, on a casino channel, that casino's; one that is absent belongs to the channel's casino.

use super::values::{string_enum, Counts, Date, Timestamp, Uuid};
use crate::json::Number;

string_enum! {
    /// How a visit is classified.
    VisitKind {
        /// An identified player visiting for rewards only.
        RewardIdentified = "reward_identified",
        /// An identified, rated gaming visit.
        GamingIdentifiedRated = "gaming_identified_rated",
        /// An anonymous, unrated gaming visit.
        GamingGhostUnrated = "gaming_ghost_unrated",
    }
}

string_enum! {
    /// `visit.converted` always converts from a reward visit.
    RewardVisitKind {
        /// The only kind a conversion starts from.
        RewardIdentified = "reward_identified",
    }
}

string_enum! {
    /// `visit.converted` always converts into a rated gaming visit.
    RatedVisitKind {
        /// The only kind a conversion ends in.
        GamingIdentifiedRated = "gaming_identified_rated",
    }
}

string_enum! {
    /// The game played at a table.
    GameType {
        /// Blackjack.
        Blackjack = "blackjack",
        /// Poker.
        Poker = "poker",
        /// Roulette.
        Roulette = "roulette",
        /// Baccarat.
        Baccarat = "baccarat",
    }
}

string_enum! {
    /// A rating slip's state.
    SlipStatus {
        /// Being rated.
        Open = "open",
        /// Play paused.
        Paused = "paused",
        /// Finished.
        Closed = "closed",
    }
}

string_enum! {
    /// `rating_slip.created` always creates an open slip.
    SlipOpened {
        /// The only status at creation.
        Open = "open",
    }
}

string_enum! {
    /// `rating_slip.closed` always carries the closed status.
    SlipClosed {
        /// The only status at closing.
        Closed = "closed",
    }
}

string_enum! {
    /// Why loyalty points were appended.
    LedgerReason {
        /// A reward during play.
        MidSession = "mid_session",
        /// A reward at the end of a session.
        SessionEnd = "session_end",
        /// A manual adjustment by staff.
        ManualAdjustment = "manual_adjustment",
        /// A promotion.
        Promotion = "promotion",
        /// A correction of an earlier entry.
        Correction = "correction",
    }
}

record! {
    /// A pit in an activated floor layout.
    LayoutPit {
        /// The pit.
        pit_id: String,
        /// Its label.
        label: String,
        /// Its place in the layout.
        sequence: i64,
    }
}

record! {
    /// A table slot in an activated floor layout.
    LayoutTableSlot {
        /// The slot.
        slot_id: String,
        /// Its label.
        slot_label: String,
        /// The game played there.
        game_type: GameType,
        /// The pit it belongs to.
        pit_id: Option<String>,
        /// The table meant for it.
        preferred_table_id: Option<Uuid>,
    }
}

catalog! {
    /// `visit.created`: a visit started (any kind).
    VisitCreated = "visit.created", identity(visit_id) {
        /// The visit.
        visit_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The player; null for ghost visits.
        player_id: Option<Uuid>,
        /// The kind of visit.
        visit_kind: VisitKind,
        /// When it started.
        started_at: Timestamp,
        /// When the event happened.
        at: Timestamp,
    }

    /// `visit.closed`: a visit ended.
    VisitClosed = "visit.closed", identity(visit_id) {
        /// The visit.
        visit_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The player; null for ghost visits.
        player_id: Option<Uuid>,
        /// The kind of visit.
        visit_kind: VisitKind,
        /// When it ended.
        ended_at: Timestamp,
        /// When the event happened.
        at: Timestamp,
    }

    /// `visit.converted`: a reward visit became a rated gaming visit.
    VisitConverted = "visit.converted", identity(visit_id) {
        /// The visit.
        visit_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The player (always identified for a conversion).
        player_id: Uuid,
        /// The kind before.
        from_kind: RewardVisitKind,
        /// The kind after.
        to_kind: RatedVisitKind,
        /// When the event happened.
        at: Timestamp,
    }

    /// `rating_slip.created`: a rating slip was opened.
    RatingSlipCreated = "rating_slip.created", identity(rating_slip_id) {
        /// The slip.
        rating_slip_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The visit it is anchored to.
        visit_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// Always `open`.
        status: SlipOpened,
        /// When the event happened.
        at: Timestamp,
    }

    /// `rating_slip.updated`: a slip's telemetry changed.
    RatingSlipUpdated = "rating_slip.updated", identity(rating_slip_id) {
        /// The slip.
        rating_slip_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The visit it is anchored to.
        visit_id: Uuid,
        /// Average bet, when known.
        average_bet: Option<Number>,
        /// Minutes played so far.
        minutes_played: Number,
        /// The game.
        game_type: GameType,
        /// The slip's state.
        status: SlipStatus,
        /// When the event happened.
        at: Timestamp,
    }

    /// `rating_slip.closed`: a slip was closed.
    RatingSlipClosed = "rating_slip.closed", identity(rating_slip_id) {
        /// The slip.
        rating_slip_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The visit it is anchored to.
        visit_id: Uuid,
        /// When play ended.
        end_time: Timestamp,
        /// Total duration, in seconds.
        total_duration: Number,
        /// Average bet, when known.
        average_bet: Option<Number>,
        /// Always `closed`.
        status: SlipClosed,
        /// When the event happened.
        at: Timestamp,
    }

    /// `loyalty.ledger_appended`: points were issued or corrected.
    LoyaltyLedgerAppended = "loyalty.ledger_appended", identity(ledger_id) {
        /// The ledger entry.
        ledger_id: Uuid,
        /// The player.
        player_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// Points (negative for corrections).
        points_earned: i64,
        /// Why.
        reason: LedgerReason,
        /// The slip that earned them, if any.
        rating_slip_id: Option<Uuid>,
        /// The visit, if any.
        visit_id: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `loyalty.balance_updated`: a player's balance changed.
    LoyaltyBalanceUpdated = "loyalty.balance_updated", identity(player_id) {
        /// The player.
        player_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The new balance.
        balance: i64,
        /// The change.
        balance_delta: i64,
        /// The loyalty tier.
        tier: Option<String>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.inventory_open`: a table's inventory was opened at shift start.
    TableInventoryOpen = "table.inventory_open", identity(snapshot_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The inventory snapshot.
        snapshot_id: Uuid,
        /// Chips by denomination.
        chipset: Counts,
        /// Who counted.
        counted_by: Option<Uuid>,
        /// Who verified.
        verified_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.inventory_close`: a table's inventory was closed at shift end.
    TableInventoryClose = "table.inventory_close", identity(snapshot_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The inventory snapshot.
        snapshot_id: Uuid,
        /// Chips by denomination.
        chipset: Counts,
        /// Variance from expected, in cents.
        discrepancy_cents: i64,
        /// Who counted.
        counted_by: Option<Uuid>,
        /// Who verified.
        verified_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.inventory_rundown_recorded`: a mid-shift rundown.
    TableInventoryRundownRecorded = "table.inventory_rundown_recorded", identity(snapshot_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The inventory snapshot.
        snapshot_id: Uuid,
        /// Chips by denomination.
        chipset: Counts,
        /// A note.
        note: Option<String>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.fill_requested`: chips were requested for a table.
    TableFillRequested = "table.fill_requested", identity(request_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The request (idempotency key).
        request_id: String,
        /// Amount, in cents.
        amount_cents: i64,
        /// Chips by denomination.
        chipset: Counts,
        /// Who requested.
        requested_by: Option<Uuid>,
        /// The fill slip number.
        slip_no: Option<String>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.fill_completed`: a fill was delivered and received.
    TableFillCompleted = "table.fill_completed", identity(request_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The request (idempotency key).
        request_id: String,
        /// Amount, in cents.
        amount_cents: i64,
        /// Who delivered.
        delivered_by: Option<Uuid>,
        /// Who received.
        received_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.credit_requested`: chips are to go from a table to the cage.
    TableCreditRequested = "table.credit_requested", identity(request_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The request (idempotency key).
        request_id: String,
        /// Amount, in cents.
        amount_cents: i64,
        /// Chips by denomination.
        chipset: Counts,
        /// Who authorised.
        authorized_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.credit_completed`: a credit reached the cage.
    TableCreditCompleted = "table.credit_completed", identity(request_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The request (idempotency key).
        request_id: String,
        /// Amount, in cents.
        amount_cents: i64,
        /// Who sent.
        sent_by: Option<Uuid>,
        /// Who received (cage).
        received_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.drop_removed`: a drop box was removed from a table.
    TableDropRemoved = "table.drop_removed", identity(drop_box_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The drop box.
        drop_box_id: String,
        /// The seal number.
        seal_no: Option<String>,
        /// The gaming day.
        gaming_day: Date,
        /// Sequence number.
        seq_no: i64,
        /// Who removed it.
        removed_by: Option<Uuid>,
        /// Who witnessed.
        witnessed_by: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.drop_delivered`: a drop box reached the count room.
    TableDropDelivered = "table.drop_delivered", identity(drop_box_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// The drop box.
        drop_box_id: String,
        /// When it was delivered.
        delivered_at: Timestamp,
        /// When it was scanned on delivery.
        delivered_scan_at: Option<Timestamp>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.activated`: a table was brought into service.
    TableActivated = "table.activated", identity(table_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// Its label.
        label: String,
        /// The game (`type` in the payload).
        game_type as "type": GameType,
        /// Its pit.
        pit: Option<String>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `table.deactivated`: a table was taken out of service.
    TableDeactivated = "table.deactivated", identity(table_id) {
        /// The casino.
        casino_id: Uuid,
        /// The table.
        table_id: Uuid,
        /// When the event happened.
        at: Timestamp,
    }

    /// `floor_layout.activated`: a floor layout version went live.
    FloorLayoutActivated = "floor_layout.activated", identity(layout_version_id) {
        /// The casino.
        casino_id: Uuid,
        /// The layout.
        layout_id: Uuid,
        /// The version activated.
        layout_version_id: Uuid,
        /// Who activated it.
        activated_by: Uuid,
        /// When.
        activated_at: Timestamp,
        /// Its pits.
        pits: Vec<LayoutPit>,
        /// Its table slots.
        table_slots: Vec<LayoutTableSlot>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `finance.transaction_created`: a financial transaction was recorded.
    FinanceTransactionCreated = "finance.transaction_created", identity(transaction_id) {
        /// The transaction.
        transaction_id: Uuid,
        /// The player.
        player_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// The amount.
        amount: Number,
        /// The tender type.
        tender_type: Option<String>,
        /// The gaming day.
        gaming_day: Date,
        /// The visit, if any.
        visit_id: Option<Uuid>,
        /// When the event happened.
        at: Timestamp,
    }

    /// `finance.outbox_processed`: the finance worker processed an outbox entry.
    FinanceOutboxProcessed = "finance.outbox_processed", identity(outbox_id, attempt_count) {
        /// The outbox entry.
        outbox_id: Uuid,
        /// The casino, when the worker names one: its schema omits it.
        casino_id: Option<Uuid>,
        /// The transaction.
        ledger_id: Uuid,
        /// What was sent.
        event_type: String,
        /// Attempts so far.
        attempt_count: i64,
        /// When it was processed.
        processed_at: Timestamp,
        /// When the event happened.
        at: Timestamp,
    }

    /// `visit.checked_in`: a player checked in.
    VisitCheckedIn = "visit.checked_in", identity(visit_id) {
        /// The visit.
        visit_id: Uuid,
        /// The player.
        player_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// When the visit started.
        started_at: Timestamp,
        /// When the event happened.
        at: Timestamp,
    }

    /// `visit.checked_out`: a player checked out.
    VisitCheckedOut = "visit.checked_out", identity(visit_id) {
        /// The visit.
        visit_id: Uuid,
        /// The player.
        player_id: Uuid,
        /// The casino.
        casino_id: Uuid,
        /// When the visit started.
        started_at: Timestamp,
        /// When it ended.
        ended_at: Timestamp,
        /// Its length, in minutes.
        duration_minutes: Number,
        /// When the event happened.
        at: Timestamp,
    }
}
