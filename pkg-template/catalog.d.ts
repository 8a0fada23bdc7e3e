// Generated from src/catalog by `cargo test` (BLESS=1 rewrites it). Do not edit.

/** The payload of `visit.created`. */
export interface VisitCreatedPayload {
  event?: "visit.created";
  /** uuid */ visit_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ player_id?: string | null;
  visit_kind: "reward_identified" | "gaming_identified_rated" | "gaming_ghost_unrated";
  /** ISO 8601 timestamp with offset */ started_at: string;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `visit.closed`. */
export interface VisitClosedPayload {
  event?: "visit.closed";
  /** uuid */ visit_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ player_id?: string | null;
  visit_kind: "reward_identified" | "gaming_identified_rated" | "gaming_ghost_unrated";
  /** ISO 8601 timestamp with offset */ ended_at: string;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `visit.converted`. */
export interface VisitConvertedPayload {
  event?: "visit.converted";
  /** uuid */ visit_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ player_id: string;
  from_kind: "reward_identified";
  to_kind: "gaming_identified_rated";
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `rating_slip.created`. */
export interface RatingSlipCreatedPayload {
  event?: "rating_slip.created";
  /** uuid */ rating_slip_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ visit_id: string;
  /** uuid */ table_id: string;
  status: "open";
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `rating_slip.updated`. */
export interface RatingSlipUpdatedPayload {
  event?: "rating_slip.updated";
  /** uuid */ rating_slip_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ visit_id: string;
  average_bet?: number | null;
  minutes_played: number;
  game_type: "blackjack" | "poker" | "roulette" | "baccarat";
  status: "open" | "paused" | "closed";
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `rating_slip.closed`. */
export interface RatingSlipClosedPayload {
  event?: "rating_slip.closed";
  /** uuid */ rating_slip_id: string;
  /** uuid */ casino_id: string;
  /** uuid */ visit_id: string;
  /** ISO 8601 timestamp with offset */ end_time: string;
  total_duration: number;
  average_bet?: number | null;
  status: "closed";
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `loyalty.ledger_appended`. */
export interface LoyaltyLedgerAppendedPayload {
  event?: "loyalty.ledger_appended";
  /** uuid */ ledger_id: string;
  /** uuid */ player_id: string;
  /** uuid */ casino_id: string;
  /** integer */ points_earned: number;
  reason: "mid_session" | "session_end" | "manual_adjustment" | "promotion" | "correction";
  /** uuid */ rating_slip_id?: string | null;
  /** uuid */ visit_id?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `loyalty.balance_updated`. */
export interface LoyaltyBalanceUpdatedPayload {
  event?: "loyalty.balance_updated";
  /** uuid */ player_id: string;
  /** uuid */ casino_id: string;
  /** integer */ balance: number;
  /** integer */ balance_delta: number;
  tier?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.inventory_open`. */
export interface TableInventoryOpenPayload {
  event?: "table.inventory_open";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  /** uuid */ snapshot_id: string;
  chipset: Record<string, number>;
  /** uuid */ counted_by?: string | null;
  /** uuid */ verified_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.inventory_close`. */
export interface TableInventoryClosePayload {
  event?: "table.inventory_close";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  /** uuid */ snapshot_id: string;
  chipset: Record<string, number>;
  /** integer */ discrepancy_cents: number;
  /** uuid */ counted_by?: string | null;
  /** uuid */ verified_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.inventory_rundown_recorded`. */
export interface TableInventoryRundownRecordedPayload {
  event?: "table.inventory_rundown_recorded";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  /** uuid */ snapshot_id: string;
  chipset: Record<string, number>;
  note?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.fill_requested`. */
export interface TableFillRequestedPayload {
  event?: "table.fill_requested";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  request_id: string;
  /** integer */ amount_cents: number;
  chipset: Record<string, number>;
  /** uuid */ requested_by?: string | null;
  slip_no?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.fill_completed`. */
export interface TableFillCompletedPayload {
  event?: "table.fill_completed";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  request_id: string;
  /** integer */ amount_cents: number;
  /** uuid */ delivered_by?: string | null;
  /** uuid */ received_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.credit_requested`. */
export interface TableCreditRequestedPayload {
  event?: "table.credit_requested";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  request_id: string;
  /** integer */ amount_cents: number;
  chipset: Record<string, number>;
  /** uuid */ authorized_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.credit_completed`. */
export interface TableCreditCompletedPayload {
  event?: "table.credit_completed";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  request_id: string;
  /** integer */ amount_cents: number;
  /** uuid */ sent_by?: string | null;
  /** uuid */ received_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.drop_removed`. */
export interface TableDropRemovedPayload {
  event?: "table.drop_removed";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  drop_box_id: string;
  seal_no?: string | null;
  /** YYYY-MM-DD */ gaming_day: string;
  /** integer */ seq_no: number;
  /** uuid */ removed_by?: string | null;
  /** uuid */ witnessed_by?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.drop_delivered`. */
export interface TableDropDeliveredPayload {
  event?: "table.drop_delivered";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  drop_box_id: string;
  /** ISO 8601 timestamp with offset */ delivered_at: string;
  /** ISO 8601 timestamp with offset */ delivered_scan_at?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.activated`. */
export interface TableActivatedPayload {
  event?: "table.activated";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  label: string;
  type: "blackjack" | "poker" | "roulette" | "baccarat";
  pit?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `table.deactivated`. */
export interface TableDeactivatedPayload {
  event?: "table.deactivated";
  /** uuid */ casino_id: string;
  /** uuid */ table_id: string;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `floor_layout.activated`. */
export interface FloorLayoutActivatedPayload {
  event?: "floor_layout.activated";
  /** uuid */ casino_id: string;
  /** uuid */ layout_id: string;
  /** uuid */ layout_version_id: string;
  /** uuid */ activated_by: string;
  /** ISO 8601 timestamp with offset */ activated_at: string;
  pits: Array<{ pit_id: string; label: string; sequence: number }>;
  table_slots: Array<{ slot_id: string; slot_label: string; game_type: "blackjack" | "poker" | "roulette" | "baccarat"; pit_id: string | null; preferred_table_id: string | null }>;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `finance.transaction_created`. */
export interface FinanceTransactionCreatedPayload {
  event?: "finance.transaction_created";
  /** uuid */ transaction_id: string;
  /** uuid */ player_id: string;
  /** uuid */ casino_id: string;
  amount: number;
  tender_type?: string | null;
  /** YYYY-MM-DD */ gaming_day: string;
  /** uuid */ visit_id?: string | null;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `finance.outbox_processed`. */
export interface FinanceOutboxProcessedPayload {
  event?: "finance.outbox_processed";
  /** uuid */ outbox_id: string;
  /** uuid */ casino_id?: string | null;
  /** uuid */ ledger_id: string;
  event_type: string;
  /** integer */ attempt_count: number;
  /** ISO 8601 timestamp with offset */ processed_at: string;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `visit.checked_in`. */
export interface VisitCheckedInPayload {
  event?: "visit.checked_in";
  /** uuid */ visit_id: string;
  /** uuid */ player_id: string;
  /** uuid */ casino_id: string;
  /** ISO 8601 timestamp with offset */ started_at: string;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** The payload of `visit.checked_out`. */
export interface VisitCheckedOutPayload {
  event?: "visit.checked_out";
  /** uuid */ visit_id: string;
  /** uuid */ player_id: string;
  /** uuid */ casino_id: string;
  /** ISO 8601 timestamp with offset */ started_at: string;
  /** ISO 8601 timestamp with offset */ ended_at: string;
  duration_minutes: number;
  /** ISO 8601 timestamp with offset */ at: string;
}

/** Every event name in the catalog. */
export type EventName =
  | "visit.created"
  | "visit.closed"
  | "visit.converted"
  | "rating_slip.created"
  | "rating_slip.updated"
  | "rating_slip.closed"
  | "loyalty.ledger_appended"
  | "loyalty.balance_updated"
  | "table.inventory_open"
  | "table.inventory_close"
  | "table.inventory_rundown_recorded"
  | "table.fill_requested"
  | "table.fill_completed"
  | "table.credit_requested"
  | "table.credit_completed"
  | "table.drop_removed"
  | "table.drop_delivered"
  | "table.activated"
  | "table.deactivated"
  | "floor_layout.activated"
  | "finance.transaction_created"
  | "finance.outbox_processed"
  | "visit.checked_in"
  | "visit.checked_out"
;

/** Each event's payload type, by name. */
export interface EventPayloads {
  "visit.created": VisitCreatedPayload;
  "visit.closed": VisitClosedPayload;
  "visit.converted": VisitConvertedPayload;
  "rating_slip.created": RatingSlipCreatedPayload;
  "rating_slip.updated": RatingSlipUpdatedPayload;
  "rating_slip.closed": RatingSlipClosedPayload;
  "loyalty.ledger_appended": LoyaltyLedgerAppendedPayload;
  "loyalty.balance_updated": LoyaltyBalanceUpdatedPayload;
  "table.inventory_open": TableInventoryOpenPayload;
  "table.inventory_close": TableInventoryClosePayload;
  "table.inventory_rundown_recorded": TableInventoryRundownRecordedPayload;
  "table.fill_requested": TableFillRequestedPayload;
  "table.fill_completed": TableFillCompletedPayload;
  "table.credit_requested": TableCreditRequestedPayload;
  "table.credit_completed": TableCreditCompletedPayload;
  "table.drop_removed": TableDropRemovedPayload;
  "table.drop_delivered": TableDropDeliveredPayload;
  "table.activated": TableActivatedPayload;
  "table.deactivated": TableDeactivatedPayload;
  "floor_layout.activated": FloorLayoutActivatedPayload;
  "finance.transaction_created": FinanceTransactionCreatedPayload;
  "finance.outbox_processed": FinanceOutboxProcessedPayload;
  "visit.checked_in": VisitCheckedInPayload;
  "visit.checked_out": VisitCheckedOutPayload;
}
