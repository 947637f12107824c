import Foundation

/// Where the tests find their files: the fixtures in the source tree (read there, not from
/// the bundle copy, so that re-recorded golden files are compared at once) and the shared
/// Seata corpus, which sits next to the repository (`<repo>/../shared/corpus/seata`).
enum TestPaths {
    /// `Tests/StateLangTests`.
    static let testsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = testsDirectory.appendingPathComponent("Fixtures")

    static func fixture(_ relativePath: String) -> URL { fixtures.appendingPathComponent(relativePath) }

    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static let corpus = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus/seata")

    static func corpusFile(_ name: String) -> URL { corpus.appendingPathComponent(name) }

    /// Runs `body` with a fresh directory under the system's temporary directory, and removes
    /// the directory afterwards (a failed removal leaves litter in /tmp, not a wrong result).
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sagactl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }
}
