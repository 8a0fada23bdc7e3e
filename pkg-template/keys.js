// Generated from the default rules (src/cache/defaults.json) by src/cache/keys.rs
// (`BLESS=1 cargo test --test rules` writes it); do not edit.
export const casinoKeys = {
  finance: {
    gamingDay: (casinoId, gamingDay) => ['finance', 'gaming-day', casinoId, gamingDay],
    outbox: () => ['finance', 'outbox'],
    transactions: (playerId) => ['finance', 'transactions', playerId],
  },
  floorLayout: {
    active: (casinoId) => ['floor-layout', 'active', casinoId],
  },
  loyalty: {
    ledger: {
      byPlayer: (playerId) => ['loyalty', 'ledger', 'by-player', playerId],
    },
  },
  player: {
    loyalty: {
      balance: (playerId, casinoId) => ['player', 'loyalty', 'balance', playerId, casinoId],
    },
  },
  ratingSlip: {
    byVisit: (visitId) => ['rating-slip', 'by-visit', visitId],
    detail: (ratingSlipId) => ['rating-slip', 'detail', ratingSlipId],
    list: (casinoId) => ['rating-slip', 'list', casinoId],
  },
  tableContext: {
    credits: (casinoId) => ['table-context', 'credits', casinoId],
    drops: (casinoId) => ['table-context', 'drops', casinoId],
    fills: (casinoId) => ['table-context', 'fills', casinoId],
    inventory: (casinoId) => ['table-context', 'inventory', casinoId],
    table: Object.assign((tableId) => ['table-context', 'table', tableId], {
      custody: (tableId) => ['table-context', 'table', tableId, 'custody'],
      inventory: (tableId) => ['table-context', 'table', tableId, 'inventory'],
    }),
    tables: (casinoId) => ['table-context', 'tables', casinoId],
  },
  visit: {
    byPlayer: (playerId) => ['visit', 'by-player', playerId],
    detail: (visitId) => ['visit', 'detail', visitId],
    list: (casinoId) => ['visit', 'list', casinoId],
  },
};
