import Foundation
import Interpreter
import PostgresStore
import SQLiteStore
import Testing

/// Every store the conformance suite runs against. A new store adds a case here.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The stores the conformance tests take as arguments: all of them, except PostgreSQL when
    /// no server is given (`SAGACTL_TEST_POSTGRES_URL`) outside CI. In CI without a server the
    /// PostgreSQL cases stay, and fail saying so (`TestPostgres.missingInCI`).
    static let underTest: [StoreKind] = allCases.filter { $0 != .postgres || TestPostgres.isIncluded }

    /// Opens a fresh, empty store, runs `body`, then closes it and removes its files.
    func withStore(_ body: (any InstanceStore) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(InMemoryInstanceStore())
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let store = try SQLiteInstanceStore(path: directory.appending(path: "store.sqlite").path)
                do {
                    try await body(store)
                } catch {
                    try store.close()
                    throw error
                }
                try store.close()
            }
        case .postgres:
            try await TestPostgres.withStore(body)
        }
    }
}

/// Creates a fresh directory, runs `body` with it, and removes it afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appending(path: "sagactl-store-tests-\(UUID().uuidString)", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer {
        do {
            try FileManager.default.removeItem(at: directory)
        } catch {
            Issue.record("could not remove \(directory.path): \(error)")
        }
    }
    return try await body(directory)
}
