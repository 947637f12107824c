// The SQLite floor of a saga at concurrency 1: the store's own statements for a 5-step saga,
// replayed from C with no engine around them, next to the raw single-row commit that
// `sagactl bench` uses as its baseline (the same table shape and payload as SQLiteBaseline).
//
// It answers: of the time a checkpoint takes in `sagactl bench --concurrency 1`, how much is
// SQLite and the disk doing what the store asks, and how much is the engine around it. The
// statements mirror InstanceSQL.insert, InstanceSQL.updateKeepingIndexed, InstanceSQL.update,
// StepSQL.upsert and DefinitionSQL.exists (Sources/SQLiteStore/SQLiteRecordCoding.swift), in the
// order TransitionBatch.writeOne runs them for a lone transition; the schema is read from a
// database the store created, so migrations are followed without editing this file.
//
// Usage: floor TEMPLATE.sqlite DIRECTORY SAGAS ROUNDS
//   TEMPLATE  a database made by sagactl (run.sh makes one with `sagactl bench --abandon 1`)
//   DIRECTORY where the scratch databases go (same disk as the benchmark's)
// Prints one line per round and the medians, as microseconds per commit.

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *db;

static void die(const char *what) {
    fprintf(stderr, "floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) die(sql);
    return statement;
}

/// Steps to completion and resets; returns the number of rows changed.
static int run(sqlite3_stmt *statement) {
    int code;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {}
    if (code != SQLITE_DONE) die(sqlite3_sql(statement));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return sqlite3_changes(db);
}

static void text(sqlite3_stmt *s, int i, const char *v) {
    if (sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) != SQLITE_OK) die("bind");
}
static void real(sqlite3_stmt *s, int i, double v) { sqlite3_bind_double(s, i, v); }
static void integer(sqlite3_stmt *s, int i, int v) { sqlite3_bind_int(s, i, v); }

/// A fresh database in WAL mode with synchronous=FULL, as the store opens it.
static void open_fresh(const char *path) {
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
    if (sqlite3_open(path, &db) != SQLITE_OK) die(path);
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK)
        die("pragmas");
}

static void close_db(void) {
    sqlite3_close_v2(db);
    db = NULL;
}

/// SQLiteBaseline's single-row commits: `commits` transactions of one step-shaped row each.
static double raw_commits(const char *path, int commits) {
    open_fresh(path);
    if (sqlite3_exec(db,
            "CREATE TABLE rows (instance_id TEXT NOT NULL, seq INTEGER NOT NULL, state_name TEXT NOT NULL, "
            "phase TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, input TEXT, output TEXT, "
            "idempotency_key TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, "
            "PRIMARY KEY (instance_id, seq))", NULL, NULL, NULL) != SQLITE_OK) die("raw table");
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *insert = prepare(
        "INSERT INTO rows VALUES (?, ?, 'ReserveStock', 'forward', 1, 'SU', ?, ?, ?, ?, ?)");
    const char *payload = "{\"orderId\":\"o-123456\",\"amount\":40}";
    double start = now();
    for (int n = 0; n < commits; n++) {
        char id[32], key[48];
        snprintf(id, sizeof id, "inst-%d", n / 8);
        snprintf(key, sizeof key, "%s:%d", id, n);
        run(begin);
        text(insert, 1, id); integer(insert, 2, n); text(insert, 3, payload); text(insert, 4, payload);
        text(insert, 5, key); real(insert, 6, start); real(insert, 7, start);
        run(insert);
        run(commit);
    }
    double elapsed = now() - start;
    sqlite3_finalize(begin); sqlite3_finalize(commit); sqlite3_finalize(insert);
    close_db();
    return 1e6 * elapsed / commits;
}

static const char *owner = "host/2370/2c4tsjw0czo7y";

static void step_row(sqlite3_stmt *upsert, const char *id, int seq, const char *status, double at, int ended) {
    char name[16], input[64], key[64];
    snprintf(name, sizeof name, "S%d", seq);
    snprintf(input, sizeof input, "{\"order\":0,\"step\":%d}", seq);
    snprintf(key, sizeof key, "%s:%d", id, seq);
    text(upsert, 1, id); integer(upsert, 2, seq); text(upsert, 3, name); text(upsert, 4, "forward");
    integer(upsert, 7, 1); text(upsert, 8, status); integer(upsert, 9, 1); text(upsert, 10, input);
    if (ended) text(upsert, 11, "null");
    text(upsert, 15, key); real(upsert, 17, at);
    if (ended) real(upsert, 18, at);
    text(upsert, 20, owner);
    run(upsert);
}

/// The instance columns of InstanceSQL.update / updateKeepingIndexed (same numbering).
static void instance_update(sqlite3_stmt *s, const char *id, const char *status, const char *forward,
                            const char *cursor, double at, int terminal) {
    text(s, 1, status); text(s, 2, forward); text(s, 4, "{\"order\":0}"); text(s, 5, cursor);
    real(s, 10, at);
    if (terminal) real(s, 11, at);
    integer(s, 12, terminal); real(s, 13, at); text(s, 14, id); text(s, 15, owner);
}

/// `sagas` five-step sagas, one at a time: 6 commits each, as the store writes them.
static double saga_commits(const char *path, const char *template_path, int sagas) {
    // The schema, from the template the store created.
    sqlite3 *template_db;
    if (sqlite3_open_v2(template_path, &template_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die(template_path);
    sqlite3_stmt *schema;
    if (sqlite3_prepare_v2(template_db,
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'index', rowid", -1, &schema, NULL) != SQLITE_OK) die("schema");
    open_fresh(path);
    while (sqlite3_step(schema) == SQLITE_ROW) {
        if (sqlite3_exec(db, (const char *)sqlite3_column_text(schema, 0), NULL, NULL, NULL) != SQLITE_OK)
            die("schema statement");
    }
    sqlite3_finalize(schema);
    sqlite3_close_v2(template_db);
    if (sqlite3_exec(db, "INSERT INTO definitions VALUES ('fp', 'bench', 'bench.yaml', 'source', 0)",
                     NULL, NULL, NULL) != SQLITE_OK) die("definition");

    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *definition = prepare("SELECT 1 FROM definitions WHERE fingerprint = ?");
    sqlite3_stmt *insert = prepare(
        "INSERT INTO instances (id, definition_fingerprint, workflow_name, business_key, parent_id, parent_step_seq, "
        "status, forward_status, compensation_status, input, context, cursor, failure_name, failure_message, "
        "failure_state, lease_owner, lease_expires_at, wake_at, created_at, updated_at, ended_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *keeping = prepare(
        "UPDATE instances SET forward_status = ?2, compensation_status = ?3, context = ?4, cursor = ?5, "
        "failure_name = ?6, failure_message = ?7, failure_state = ?8, updated_at = ?10, ended_at = ?11, "
        "lease_expires_at = CASE WHEN ?12 THEN ?13 ELSE lease_expires_at END "
        "WHERE id = ?14 AND lease_owner IS ?15 AND status = ?1 AND wake_at IS ?9");
    sqlite3_stmt *update = prepare(
        "UPDATE instances SET status = ?1, forward_status = ?2, compensation_status = ?3, context = ?4, cursor = ?5, "
        "failure_name = ?6, failure_message = ?7, failure_state = ?8, wake_at = ?9, updated_at = ?10, "
        "ended_at = ?11, lease_expires_at = CASE WHEN ?12 THEN ?13 ELSE lease_expires_at END "
        "WHERE id = ?14 AND lease_owner IS ?15");
    sqlite3_stmt *upsert = prepare(
        "INSERT INTO steps (instance_id, seq, state_name, phase, compensated_seq, retried_seq, attempt, status, "
        "is_for_update, input, output, failure_name, failure_message, failure_state, idempotency_key, "
        "child_instance_id, started_at, ended_at, retry_at, executor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (instance_id, seq) DO UPDATE SET state_name = excluded.state_name, phase = excluded.phase, "
        "compensated_seq = excluded.compensated_seq, retried_seq = excluded.retried_seq, attempt = excluded.attempt, "
        "status = excluded.status, is_for_update = excluded.is_for_update, input = excluded.input, "
        "output = excluded.output, failure_name = excluded.failure_name, failure_message = excluded.failure_message, "
        "failure_state = excluded.failure_state, idempotency_key = excluded.idempotency_key, "
        "child_instance_id = excluded.child_instance_id, started_at = excluded.started_at, "
        "ended_at = excluded.ended_at, retry_at = excluded.retry_at, executor = excluded.executor");

    long commits = 0;
    double start = now();
    for (int n = 0; n < sagas; n++) {
        // Time-ordered ids, as InstanceIDs makes them: new rows go to the right of every index.
        char id[32];
        snprintf(id, sizeof id, "01m8e8q02b%016d", n);
        double at = 1795775234.0 + n * 0.001;

        // The creating transition: the instance and its first step's intent.
        run(begin);
        text(definition, 1, "fp");
        run(definition);
        text(insert, 1, id); text(insert, 2, "fp"); text(insert, 3, "bench"); text(insert, 7, "running");
        text(insert, 8, "RU"); text(insert, 10, "{\"order\":0}"); text(insert, 11, "{\"order\":0}");
        text(insert, 12, "{\"mode\":\"forward\",\"next\":2,\"logical\":1}"); text(insert, 16, owner);
        real(insert, 17, at + 30); real(insert, 19, at); real(insert, 20, at);
        run(insert);
        step_row(upsert, id, 1, "RU", at, 0);
        run(commit);
        commits++;

        // Step k ends and step k+1's intent is written; the last one ends the instance.
        for (int k = 1; k <= 5; k++) {
            int last = k == 5;
            run(begin);
            instance_update(keeping, id, last ? "succeeded" : "running", last ? "SU" : "RU",
                            "{\"mode\":\"forward\",\"next\":6,\"logical\":5}", at, last);
            if (run(keeping) == 0) {
                instance_update(update, id, last ? "succeeded" : "running", last ? "SU" : "RU",
                                "{\"mode\":\"finished\",\"next\":6,\"logical\":5}", at, last);
                if (run(update) != 1) die("update changed no row");
            }
            step_row(upsert, id, k, "SU", at, 1);
            if (!last) step_row(upsert, id, k + 1, "RU", at, 0);
            run(commit);
            commits++;
        }
    }
    double elapsed = now() - start;
    sqlite3_finalize(begin); sqlite3_finalize(commit); sqlite3_finalize(definition); sqlite3_finalize(insert);
    sqlite3_finalize(keeping); sqlite3_finalize(update); sqlite3_finalize(upsert);
    close_db();
    return 1e6 * elapsed / commits;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: floor TEMPLATE.sqlite DIRECTORY SAGAS ROUNDS\n");
        return 2;
    }
    const char *template_path = argv[1], *directory = argv[2];
    int sagas = atoi(argv[3]), rounds = atoi(argv[4]);
    if (sagas < 1 || rounds < 1 || rounds > 100) {
        fprintf(stderr, "floor: SAGAS must be at least 1 and ROUNDS between 1 and 100\n");
        return 2;
    }
    char raw_path[4096], saga_path[4096];
    snprintf(raw_path, sizeof raw_path, "%s/floor-raw.sqlite", directory);
    snprintf(saga_path, sizeof saga_path, "%s/floor-saga.sqlite", directory);
    double raw[100], saga[100];
    printf("round  raw_us_per_commit  saga_sql_us_per_commit  ratio\n");
    for (int r = 0; r < rounds; r++) {
        // Alternated, so that a slow minute of the disk hits both.
        raw[r] = raw_commits(raw_path, sagas * 6);
        saga[r] = saga_commits(saga_path, template_path, sagas);
        printf("%5d  %17.1f  %22.1f  %5.3f\n", r + 1, raw[r], saga[r], raw[r] / saga[r]);
    }
    qsort(raw, rounds, sizeof raw[0], compare);
    qsort(saga, rounds, sizeof saga[0], compare);
    double raw_median = raw[rounds / 2], saga_median = saga[rounds / 2];
    printf("median %16.1f  %22.1f  %5.3f\n", raw_median, saga_median, raw_median / saga_median);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", raw_path, suffixes[i]); unlink(path);
        snprintf(path, sizeof path, "%s%s", saga_path, suffixes[i]); unlink(path);
    }
    return 0;
}
