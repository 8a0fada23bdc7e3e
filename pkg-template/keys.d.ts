// Generated from the default rules (src/cache/defaults.json) by src/cache/keys.rs
// (`BLESS=1 cargo test --test rules` writes it); do not edit.
/**
 * The query keys the default rules invalidate or write, as functions: use them in `useQuery` so
 * a key cannot drift from what the events keep fresh. Custom rules are not in it.
 */
export declare const casinoKeys: {
  readonly finance: {
    /** `finance.transaction_created` invalidates it. */
    readonly gamingDay: (casinoId: string, gamingDay: string) => readonly ["finance", "gaming-day", string, string];
    /** `finance.outbox_processed` invalidates it. */
    readonly outbox: () => readonly ["finance", "outbox"];
    /** `finance.transaction_created` invalidates it. */
    readonly transactions: (playerId: string) => readonly ["finance", "transactions", string];
  };
  readonly floorLayout: {
    /** `floor_layout.activated` invalidates it. */
    readonly active: (casinoId: string) => readonly ["floor-layout", "active", string];
  };
  readonly loyalty: {
    readonly ledger: {
      /** `loyalty.ledger_appended` invalidates it. */
      readonly byPlayer: (playerId: string) => readonly ["loyalty", "ledger", "by-player", string];
    };
  };
  readonly player: {
    readonly loyalty: {
      /** `loyalty.ledger_appended` invalidates it; `loyalty.balance_updated` writes it. */
      readonly balance: (playerId: string, casinoId: string) => readonly ["player", "loyalty", "balance", string, string];
    };
  };
  readonly ratingSlip: {
    /** `rating_slip.created` invalidates it; `rating_slip.updated` invalidates it; `rating_slip.closed` invalidates it. */
    readonly byVisit: (visitId: string) => readonly ["rating-slip", "by-visit", string];
    /** `rating_slip.updated` merges into it; `rating_slip.closed` merges into it. */
    readonly detail: (ratingSlipId: string) => readonly ["rating-slip", "detail", string];
    /** `rating_slip.created` invalidates it; `rating_slip.closed` invalidates it. */
    readonly list: (casinoId: string) => readonly ["rating-slip", "list", string];
  };
  readonly tableContext: {
    /** `table.credit_requested` invalidates it; `table.credit_completed` invalidates it. */
    readonly credits: (casinoId: string) => readonly ["table-context", "credits", string];
    /** `table.drop_removed` invalidates it; `table.drop_delivered` invalidates it. */
    readonly drops: (casinoId: string) => readonly ["table-context", "drops", string];
    /** `table.fill_requested` invalidates it; `table.fill_completed` invalidates it. */
    readonly fills: (casinoId: string) => readonly ["table-context", "fills", string];
    /** `table.inventory_open` invalidates it; `table.inventory_close` invalidates it. */
    readonly inventory: (casinoId: string) => readonly ["table-context", "inventory", string];
    /** `table.activated` invalidates it; `table.deactivated` invalidates it. */
    readonly table: ((tableId: string) => readonly ["table-context", "table", string]) & {
      /** `table.fill_requested` invalidates it; `table.fill_completed` invalidates it; `table.credit_requested` invalidates it; `table.credit_completed` invalidates it; `table.drop_removed` invalidates it; `table.drop_delivered` invalidates it. */
      readonly custody: (tableId: string) => readonly ["table-context", "table", string, "custody"];
      /** `table.inventory_open` invalidates it; `table.inventory_close` invalidates it; `table.inventory_rundown_recorded` invalidates it. */
      readonly inventory: (tableId: string) => readonly ["table-context", "table", string, "inventory"];
    };
    /** `table.activated` invalidates it; `table.deactivated` invalidates it; `floor_layout.activated` invalidates it. */
    readonly tables: (casinoId: string) => readonly ["table-context", "tables", string];
  };
  readonly visit: {
    /** `visit.created` invalidates it; `visit.closed` invalidates it; `visit.checked_in` invalidates it; `visit.checked_out` invalidates it. */
    readonly byPlayer: (playerId: string) => readonly ["visit", "by-player", string];
    /** `visit.closed` invalidates it; `visit.converted` invalidates it; `visit.checked_out` invalidates it. */
    readonly detail: (visitId: string) => readonly ["visit", "detail", string];
    /** `visit.created` invalidates it; `visit.closed` invalidates it; `visit.converted` invalidates it; `visit.checked_in` invalidates it; `visit.checked_out` invalidates it. */
    readonly list: (casinoId: string) => readonly ["visit", "list", string];
  };
};
