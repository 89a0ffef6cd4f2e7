export { HistoryDb, MIGRATIONS_DIR } from './history-db.js';
export type { HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord, UsageRow } from './history-db.js';
export { HistoryWriter } from './history-writer.js';
export type { DirtyEntry, DirtySource, HistoryWriterOptions } from './history-writer.js';
export { MessageHistory } from './message-history.js';
export type { HotRecords } from './message-history.js';
