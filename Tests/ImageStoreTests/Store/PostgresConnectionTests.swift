import TestSupport
import Testing

@testable import ImageStore

/// The PostgreSQL connection itself: a transaction's opening sent in pipeline mode with its
/// first statement, what happens when any part of that fails, and the claim's generic plan.
@Suite struct PostgresConnectionTests {
    /// A migrated database of the shared cluster and a connection to it.
    func open() async throws -> (url: String, cluster: TestPostgres, connection: PostgresConnection) {
        let cluster = try await SharedPostgres.shared.cluster()
        let url = try await cluster.createDatabase(prefix: "connection")
        let connection = try await PostgresConnection.open(url: url)
        try await PostgresMigrator().migrate(connection)
        return (url, cluster, connection)
    }

    func insert(_ name: String) -> @Sendable (any SQLSession) throws -> Int {
        { db in try db.execute(Statements.insertImage, [.text(name), .text("ext4"), .int(0), .int(1), .null]) }
    }

    func names(_ connection: PostgresConnection) async throws -> [String] {
        try await connection.read { db in try db.query(Statements.listImages).map { try $0.text("name") } }
    }

    @Test("the opening and the first statement commit together, and the next transaction works on the same connection")
    func openingWithFirstStatement() async throws {
        let (_, _, connection) = try await open()
        #expect(try await connection.write(begin: Statements.beginClaim, insert("first")) == 1)
        #expect(try await connection.write(begin: Statements.beginSerialized, insert("second")) == 1)
        #expect(try await connection.write(insert("third")) == 1)
        // A body that runs nothing: the opening goes with the COMMIT.
        #expect(try await connection.write(begin: Statements.beginClaim) { _ in 42 } == 42)
        #expect(try await names(connection) == ["first", "second", "third"])
    }

    @Test("a body that throws before any statement rolls back what the opening began")
    func throwsBeforeAnyStatement() async throws {
        let (url, cluster, connection) = try await open()
        await #expect(throws: QueueError.notFound(reference: "boom")) {
            try await connection.write(begin: Statements.beginClaim) { _ in throw QueueError.notFound(reference: "boom") }
        }
        // The claim advisory lock went with the rollback: another session takes it at once.
        #expect(try await cluster.psql(url, "SELECT pg_try_advisory_lock(1769431857)") == "t")
        #expect(try await connection.write(insert("after")) == 1)
        #expect(try await names(connection) == ["after"])
    }

    @Test("the first statement failing in the pipeline names itself and its SQLSTATE; nothing of it is kept")
    func firstStatementFails() async throws {
        let (_, _, connection) = try await open()
        _ = try await connection.write(insert("kept"))
        let badFormat: @Sendable (any SQLSession) throws -> Int = { db in
            try db.execute(Statements.insertImage, [.text("refused"), .text("floppy"), .int(0), .int(1), .null])
        }
        do {
            _ = try await connection.write(begin: Statements.beginClaim, badFormat)
            Issue.record("a format the schema's CHECK refuses was inserted")
        } catch StoreError.postgres(let name, let sqlstate, _) {
            #expect(name == "insertImage" && sqlstate == "23514")
        }
        #expect(try await connection.write(begin: Statements.beginClaim, insert("next")) == 1)
        #expect(try await names(connection) == ["kept", "next"])
    }

    @Test(
        "an opening command that fails, when prepared or when run, is reported by name; the statement after it is not run",
        arguments: [
            ("BEGIN; SELECT no_such_function(); SAVEPOINT x", "42883"),  // refused by PQprepare, before the pipeline
            ("BEGIN; SET LOCAL lock_timeout = 'soon'; SAVEPOINT x", "22023"),  // refused when it runs, in the pipeline
        ])
    func openingFails(_ text: String, _ expected: String) async throws {
        let (_, _, connection) = try await open()
        let opening = SQLStatement(name: "test-opening", postgres: text)
        do {
            _ = try await connection.write(begin: opening, insert("skipped"))
            Issue.record("the opening \(text) succeeded")
        } catch StoreError.postgres(let name, let sqlstate, _) {
            #expect(name == "test-opening.1" && sqlstate == expected)
        }
        #expect(try await connection.write(begin: Statements.beginClaim, insert("works")) == 1)
        #expect(try await names(connection) == ["works"])
    }

    @Test("a statement sent with its COMMIT is committed; a failed one leaves the transaction open for a savepoint rollback")
    func statementWithCommit() async throws {
        let (_, _, connection) = try await open()
        #expect(try await connection.write(begin: Statements.beginClaim) { db in
            try db.executeCommitting(Statements.insertImage, [.text("one trip"), .text("ext4"), .int(0), .int(1), .null])
        } == 1)
        let recovered = try await connection.write(begin: Statements.beginClaim) { db -> String in
            do {
                try db.executeCommitting(Statements.insertImage, [.text("refused"), .text("floppy"), .int(0), .int(1), .null])
                return "inserted"
            } catch let error as StoreError where error.isRowProblem {
                // As the claim does when the head row is refused.
                try db.execute(Statements.rollbackToClaimSavepoint)
                try db.execute(Statements.insertImage, [.text("after the savepoint"), .text("ext4"), .int(0), .int(1), .null])
                return "recovered"
            }
        }
        #expect(recovered == "recovered")
        #expect(try await names(connection) == ["one trip", "after the savepoint"])
    }

    @Test("a statement after one sent with its COMMIT is refused, not run outside the transaction")
    func nothingAfterCommit() async throws {
        let (_, _, connection) = try await open()
        do {
            _ = try await connection.write { db in
                try db.executeCommitting(Statements.insertImage, [.text("last"), .text("ext4"), .int(0), .int(1), .null])
                return try db.execute(Statements.insertImage, [.text("stray"), .text("ext4"), .int(0), .int(1), .null])
            }
            Issue.record("a statement ran after its transaction committed")
        } catch StoreError.postgres(let name, _, let message) {
            #expect(name == "insertImage" && message.contains("after its transaction's COMMIT"))
        }
        #expect(try await names(connection) == ["last"])
        #expect(try await connection.write(insert("next")) == 1, "the connection takes the next transaction")
    }

    @Test(
        "a connection whose server process went away fails one transaction as a connection error; the next works",
        arguments: [false, true])
    func serverProcessGone(_ carryingCommit: Bool) async throws {
        let (url, cluster, connection) = try await open()
        _ = try await connection.write(insert("before"))
        // What a server restart or an administrator does to an idle connection.
        try await cluster.psql(
            url,
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid();
            """)
        let arguments: [SQLValue] = [.text("lost"), .text("ext4"), .int(0), .int(1), .null]
        do {
            _ = try await connection.write(begin: Statements.beginClaim) { db in
                carryingCommit
                    ? try db.executeCommitting(Statements.insertImage, arguments)
                    : try db.execute(Statements.insertImage, arguments)
            }
            Issue.record("a transaction ran on a terminated server process")
        } catch let error as StoreError {
            guard case .connect = error else {
                Issue.record("not a connection error: \(error)")
                return
            }
            #expect(error.kind == .transient(retryAfter: nil), "a worker retries it")
        }
        #expect(try await connection.write(begin: Statements.beginClaim, insert("after")) == 1)
        #expect(try await names(connection) == ["before", "after"])
    }

    @Test("the generic plans of claimNext and headPending read only the claimer's part of images_pending_pinned")
    func genericClaimPlan() async throws {
        let (url, cluster, _) = try await open()
        // A large backlog pinned to one other host: the case a generic plan got wrong when the
        // host test was `= $N` (it walked images_pending past all of it).
        try await cluster.psql(
            url,
            """
            INSERT INTO images (name, target_host) SELECT 'backlog/' || g, 'host-b' FROM generate_series(1, 20000) AS g;
            INSERT INTO images (name) SELECT 'any/' || g FROM generate_series(1, 200) AS g;
            ANALYZE images;
            """)
        let plans = [
            (Statements.claimNext, "text, bigint, bigint, bigint, text", "'w', NULL, 60000, 4, 'host-a'"),
            (Statements.headPending, "bigint, text", "NULL, 'host-a'"),
        ]
        for (statement, types, values) in plans {
            let plan = try await cluster.psql(
                url,
                """
                SET plan_cache_mode = force_generic_plan;
                PREPARE probe(\(types)) AS \(statement.postgresSQL);
                EXPLAIN (ANALYZE, COSTS OFF) EXECUTE probe(\(values));
                """)
            #expect(plan.contains("Index Scan using images_pending_pinned"), "\(statement.name): \(plan)")
            #expect(plan.contains("Index Scan using images_pending_any"), "\(statement.name): \(plan)")
            #expect(!plan.contains("Index Scan using images_pending on"), "\(statement.name): \(plan)")
            // The pinned head was found by looking up host-a, not by filtering host-b's rows.
            let filtered = plan.split(separator: "\n").compactMap { line in
                line.split(separator: "Rows Removed by Filter: ").last.flatMap { Int($0) }
            }
            #expect(filtered.allSatisfy { $0 < 1_000 }, "\(statement.name): \(plan)")
        }
    }
}
