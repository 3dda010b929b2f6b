#include "storage/schema.h"

#include <fmt/format.h>

#include "engine/common/error.h"
#include "storage/sqlite_db.h"

namespace moescope::storage {
namespace {

// Version 1. The big tables (a row per token or forward call with its per-layer arrays packed in
// blobs, routing_blob.h; a row per cache event) are rowid tables keyed by one packed integer
// (row_keys.h): recording appends in key order, SQLite stores the key once as a varint, and the
// parts come back as virtual columns. The small tables are WITHOUT ROWID with their natural keys.
// Phases are 0 prefill, 1 decode; layers are MoE layers (moe_layers maps them to model blocks).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  label            TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL CHECK (status IN ('interrupted', 'complete')),
  started_unix_ns  INTEGER NOT NULL,
  ended_unix_ns    INTEGER,
  model_path       TEXT NOT NULL,
  model_sha256     TEXT NOT NULL,
  model_bytes      INTEGER NOT NULL,
  architecture     TEXT NOT NULL,
  model_name       TEXT NOT NULL,
  quantization     TEXT NOT NULL,
  n_model_layers   INTEGER NOT NULL,
  n_vocab          INTEGER NOT NULL,
  gating           TEXT NOT NULL,
  seed             INTEGER NOT NULL,
  settings         TEXT NOT NULL,
  machine          TEXT NOT NULL,
  moescope_version TEXT NOT NULL,
  summary          TEXT
);
CREATE TABLE moe_layers (
  run INTEGER NOT NULL, layer INTEGER NOT NULL, model_layer INTEGER NOT NULL,
  n_experts INTEGER NOT NULL, top_k INTEGER NOT NULL, expert_bytes INTEGER NOT NULL,
  PRIMARY KEY (run, layer)
) WITHOUT ROWID;
CREATE TABLE prompts (
  run INTEGER NOT NULL, idx INTEGER NOT NULL, first_pos INTEGER NOT NULL,
  n_tokens INTEGER NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY (run, idx)
) WITHOUT ROWID;
CREATE TABLE tokens (
  run INTEGER NOT NULL, pos INTEGER NOT NULL, token_id INTEGER NOT NULL, text TEXT NOT NULL,
  phase INTEGER NOT NULL, forwarded INTEGER NOT NULL, chunk_first INTEGER NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  compute_ns INTEGER NOT NULL, stall_ns INTEGER NOT NULL,
  PRIMARY KEY (run, pos)
) WITHOUT ROWID;
CREATE TABLE routing (
  id INTEGER PRIMARY KEY,
  counts BLOB, experts BLOB NOT NULL, weights BLOB NOT NULL, logits BLOB NOT NULL, cache BLOB,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
CREATE TABLE router_logits (
  id INTEGER PRIMARY KEY,
  logits BLOB NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
CREATE TABLE layer_timings (
  id INTEGER PRIMARY KEY,
  n_tokens INTEGER NOT NULL, compute_ns BLOB NOT NULL, stall_ns BLOB NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
CREATE TABLE cache_compute (
  id INTEGER PRIMARY KEY,
  compute_ns BLOB NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
CREATE TABLE cache_events (
  id INTEGER PRIMARY KEY,
  layer INTEGER NOT NULL, kind INTEGER NOT NULL, expert INTEGER NOT NULL,
  bytes INTEGER NOT NULL, wait_ns INTEGER NOT NULL, t_ns INTEGER NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 48) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 20) & 268435455) VIRTUAL,
  seq INTEGER GENERATED ALWAYS AS (id & 1048575) VIRTUAL
);
CREATE TABLE cache_event_kinds (kind INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO cache_event_kinds VALUES (1, 'hit'), (2, 'miss'), (3, 'bypass'),
  (4, 'prefetch-issued'), (5, 'prefetch-used'), (6, 'late'), (7, 'wasted'), (8, 'eviction');
CREATE TABLE cache_outcomes (cache INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO cache_outcomes VALUES (1, 'hit'), (2, 'miss'), (3, 'bypass'),
  (4, 'prefetch-hit'), (5, 'late-prefetch-hit');
CREATE TABLE policies (
  run INTEGER NOT NULL, policy INTEGER NOT NULL, role TEXT NOT NULL, spec TEXT NOT NULL,
  prefetcher TEXT NOT NULL, capacity TEXT NOT NULL, timing TEXT NOT NULL,
  report_policy TEXT, report_prefetcher TEXT, end_ns INTEGER, token_counters INTEGER,
  PRIMARY KEY (run, policy)
) WITHOUT ROWID;
CREATE TABLE policy_tokens (
  run INTEGER NOT NULL, policy INTEGER NOT NULL, pos INTEGER NOT NULL,
  accesses INTEGER NOT NULL, hits INTEGER NOT NULL, misses INTEGER NOT NULL,
  bypasses INTEGER NOT NULL, evictions INTEGER NOT NULL, bytes_loaded INTEGER NOT NULL,
  prefetch_predicted INTEGER NOT NULL, prefetch_correct INTEGER NOT NULL,
  prefetch_routed INTEGER NOT NULL, prefetch_issued INTEGER NOT NULL,
  prefetch_bytes INTEGER NOT NULL, prefetch_used INTEGER NOT NULL, prefetch_late INTEGER NOT NULL,
  prefetch_wasted INTEGER NOT NULL, prefetch_wasted_bytes INTEGER NOT NULL,
  stall_ns INTEGER NOT NULL,
  PRIMARY KEY (run, policy, pos)
) WITHOUT ROWID;
CREATE TABLE policy_layers (
  run INTEGER NOT NULL, policy INTEGER NOT NULL, phase INTEGER NOT NULL, layer INTEGER NOT NULL,
  accesses INTEGER NOT NULL, hits INTEGER NOT NULL, misses INTEGER NOT NULL,
  bypasses INTEGER NOT NULL, evictions INTEGER NOT NULL, bytes_loaded INTEGER NOT NULL,
  prefetch_predicted INTEGER NOT NULL, prefetch_correct INTEGER NOT NULL,
  prefetch_routed INTEGER NOT NULL, prefetch_issued INTEGER NOT NULL,
  prefetch_bytes INTEGER NOT NULL, prefetch_used INTEGER NOT NULL, prefetch_late INTEGER NOT NULL,
  prefetch_wasted INTEGER NOT NULL, prefetch_wasted_bytes INTEGER NOT NULL,
  stall_ns INTEGER NOT NULL,
  PRIMARY KEY (run, policy, phase, layer)
) WITHOUT ROWID;
CREATE TABLE expert_stats (
  run INTEGER NOT NULL, phase INTEGER NOT NULL, layer INTEGER NOT NULL, expert INTEGER NOT NULL,
  activations INTEGER NOT NULL, top1 INTEGER NOT NULL, weight_sum REAL NOT NULL,
  hits INTEGER NOT NULL, misses INTEGER NOT NULL,
  PRIMARY KEY (run, phase, layer, expert)
) WITHOUT ROWID;
CREATE TABLE affinity (
  run INTEGER NOT NULL, phase INTEGER NOT NULL, layer INTEGER NOT NULL, expert INTEGER NOT NULL,
  next_expert INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (run, phase, layer, expert, next_expert)
) WITHOUT ROWID;
CREATE TABLE layer_stats (
  run INTEGER NOT NULL, phase INTEGER NOT NULL, layer INTEGER NOT NULL, tokens INTEGER NOT NULL,
  compute_ns INTEGER NOT NULL, stall_ns INTEGER NOT NULL,
  PRIMARY KEY (run, phase, layer)
) WITHOUT ROWID;
)sql";

// Version 2: what a reopened run needs without the model that made it. Token kinds (NULL in
// rows from schema 1: not recorded), and the next-gate prefetcher's predictions, one row per token
// like routing: counts uint8[n_layers] (the experts predicted for each target MoE layer, NULL =
// none at any layer) and experts in the routing blob's id width, layer after layer.
constexpr const char* kSchemaV2Step = R"sql(
ALTER TABLE tokens ADD COLUMN kind INTEGER;
CREATE TABLE token_kinds (kind INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO token_kinds VALUES (0, 'normal'), (1, 'bos'), (2, 'eos'), (3, 'eog'),
  (4, 'control'), (5, 'unknown');
CREATE TABLE gate_predictions (
  id INTEGER PRIMARY KEY,
  counts BLOB NOT NULL, experts BLOB NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
)sql";

// Version 3: many requests per run, and runs imported from other engines. Every token belongs to
// a request (a run used to be one sequence: request 0) and to a step, the forward call (batch) that
// processed it (numbered from 0 per run; NULL for a token that was not forwarded). A run imported
// from a file has no model: runs.source_* name the file it came from, and runs.routing_detail says
// whether it holds per-token routing ('tokens') or only per-step expert counts ('counts', rows of
// step_expert_counts: int32[n_experts(l)] of every MoE layer, layer after layer).
constexpr const char* kSchemaV3Step = R"sql(
ALTER TABLE tokens ADD COLUMN request INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN step INTEGER;
UPDATE tokens SET step = s.step FROM (
  SELECT run, pos, dense_rank() OVER (PARTITION BY run ORDER BY chunk_first) - 1 AS step
  FROM tokens WHERE forwarded = 1) AS s
WHERE tokens.run = s.run AND tokens.pos = s.pos;
CREATE TABLE requests (
  run INTEGER NOT NULL, id INTEGER NOT NULL, prompt TEXT, source TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run, id)
) WITHOUT ROWID;
INSERT INTO requests (run, id, prompt)
  SELECT r.id, 0, (SELECT group_concat(text, '') FROM (SELECT text FROM prompts p
                   WHERE p.run = r.id ORDER BY p.idx)) FROM runs r;
ALTER TABLE runs ADD COLUMN source_format TEXT;
ALTER TABLE runs ADD COLUMN source_path TEXT;
ALTER TABLE runs ADD COLUMN source_sha256 TEXT;
ALTER TABLE runs ADD COLUMN source_bytes INTEGER;
ALTER TABLE runs ADD COLUMN routing_detail TEXT NOT NULL DEFAULT 'tokens'
  CHECK (routing_detail IN ('tokens', 'counts'));
CREATE TABLE step_expert_counts (
  run INTEGER NOT NULL, step INTEGER NOT NULL, counts BLOB NOT NULL,
  PRIMARY KEY (run, step)
) WITHOUT ROWID;
)sql";

// Version 4: the router's best candidates of every token, for the lossy variants that choose
// beyond the top-k (Capacity-Aware Inference's Expanded Drop picks among each token's top-(k·m)).
// Recorded only by runs under such a variant: one row per forwarded token like routing, holding
// at each MoE layer l its m(l) = min(2·top_k(l), n_experts(l)) most probable experts, best first
// (experts in the routing blob's id width, layer after layer) and their router probabilities
// (scores float32, with the run's gating, before the variant changed anything).
constexpr const char* kSchemaV4Step = R"sql(
CREATE TABLE router_candidates (
  id INTEGER PRIMARY KEY,
  experts BLOB NOT NULL, scores BLOB NOT NULL,
  run INTEGER GENERATED ALWAYS AS (id >> 44) VIRTUAL,
  pos INTEGER GENERATED ALWAYS AS ((id >> 16) & 268435455) VIRTUAL
);
)sql";

constexpr const char* kCoreTables[] = {"runs", "moe_layers", "tokens", "routing", "policies"};

}  // namespace

std::span<const Migration> migrations() {
  // Version 1 is the first schema; later versions append their step here.
  static const Migration kSteps[] = {
      {1, "token kinds and next-gate predictions", [](Database& db) { db.exec(kSchemaV2Step); }},
      {2, "requests, steps and imported runs", [](Database& db) { db.exec(kSchemaV3Step); }},
      {3, "router candidates (top-2k scores)", [](Database& db) { db.exec(kSchemaV4Step); }},
  };
  return kSteps;
}

namespace {

// Version 1 in an empty database, inside the caller's transaction.
void create_first_schema(Database& db) {
  db.exec(kSchemaV1);
  db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  db.exec("PRAGMA user_version = 1");
}

}  // namespace

SchemaState inspect_schema(Database& db) {
  SchemaState s;
  s.empty = db.query_int("SELECT count(*) FROM sqlite_schema") == 0;
  s.version = static_cast<int32_t>(db.query_int("PRAGMA user_version"));
  s.ours = db.query_int("PRAGMA application_id") == kApplicationId;
  return s;
}

int32_t check_schema(Database& db, const SchemaState& s) {
  const std::string file = db.path().string();
  if (s.empty) fail("{} is not a MoEScope trace (the database is empty)", file);
  if (!s.ours) fail("{} is not a MoEScope trace (an SQLite database of another program)", file);
  if (s.version > kSchemaVersion) {
    fail("{} was written by a newer MoEScope (schema {} > {})", file, s.version, kSchemaVersion);
  }
  if (s.version == kSchemaVersion) {
    for (const char* table : kCoreTables) {
      if (!db.has_table(table)) fail("{} is not a valid MoEScope trace (no {} table)", file, table);
    }
  }
  return s.version;
}

void create_schema(Database& db, int32_t version) {
  if (version < 1 || version > kSchemaVersion) {
    fail("cannot create a trace of schema {} (this MoEScope writes 1 to {})", version,
         kSchemaVersion);
  }
  // The first schema, then the same steps an old file goes through: a new file and an upgraded
  // one cannot differ.
  {
    Transaction tx(db);
    create_first_schema(db);
    tx.commit();
  }
  migrate(db, migrations(), version);
}

void migrate(Database& db, std::span<const Migration> steps, int32_t target) {
  for (;;) {
    // The version is read under the write lock: another writer may have upgraded the file since
    // this one looked (it is then left alone).
    Transaction tx(db);
    const int32_t version = static_cast<int32_t>(db.query_int("PRAGMA user_version"));
    if (version >= target) return;
    const Migration* step = nullptr;
    for (const Migration& m : steps) {
      if (m.from == version) step = &m;
    }
    if (step == nullptr) {
      fail("trace {} has schema {}, which this MoEScope cannot upgrade", db.path().string(),
           version);
    }
    try {
      step->apply(db);
    } catch (const Error& e) {
      fail("upgrading trace {} from schema {} ({}) failed: {}", db.path().string(), version,
           step->description, e.what());
    }
    db.exec(fmt::format("PRAGMA user_version = {}", version + 1));
    tx.commit();
  }
}

void prepare_for_writing(Database& db) {
  SchemaState s = inspect_schema(db);
  if (s.empty) {
    // Two writers may both find a new file empty: the first to take the write lock creates the
    // schema, the other finds it there once it has the lock (and then only migrates if needed).
    Transaction tx(db);
    if (inspect_schema(db).empty) create_first_schema(db);
    tx.commit();
    s = inspect_schema(db);
  }
  if (check_schema(db, s) < kSchemaVersion) migrate(db, migrations(), kSchemaVersion);
}

}  // namespace moescope::storage
