import Foundation
import Testing

/// Where the tests find their files: the fixtures in the source tree (read there, not from
/// the bundle copy, so that re-recorded golden files are compared at once) and the shared
/// Seata corpus, which sits next to the repository (`<repo>/../shared/corpus/seata`) unless
/// `SAGACTL_SEATA_CORPUS` names its directory.
enum TestPaths {
    /// `Tests/StateLangTests`.
    static let testsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = testsDirectory.appendingPathComponent("Fixtures")

    static func fixture(_ relativePath: String) -> URL { fixtures.appendingPathComponent(relativePath) }

    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    /// The environment variable that names the corpus directory, for a clone without
    /// `../shared` next to it.
    static let corpusVariable = "SAGACTL_SEATA_CORPUS"

    static let corpus: URL = {
        if let path = ProcessInfo.processInfo.environment[corpusVariable], !path.isEmpty {
            return URL(fileURLWithPath: path).standardizedFileURL
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/seata")
            .standardizedFileURL
    }()

    /// Whether this is a CI run (`CI` set to anything but empty, 0 or false), as the
    /// PostgreSQL tests decide it.
    static let isCI: Bool = {
        let value = (ProcessInfo.processInfo.environment["CI"] ?? "").lowercased()
        return !["", "0", "false", "no"].contains(value)
    }()

    /// The tests that read the corpus run when it is there, and always in CI, where a missing
    /// corpus fails them (`CorpusTests.theCorpusIsThere` says where it was looked for). The
    /// same rule as the PostgreSQL tests': a clone without `../shared` can run `swift test`.
    static var corpusTrait: ConditionTrait {
        .enabled(if: corpusMissing == nil || isCI,
                 "needs the Seata corpus: ../shared/corpus/seata next to the clone, or SAGACTL_SEATA_CORPUS")
    }

    /// Why the corpus tests fail, when its directory is missing: where it was looked for and
    /// how to point the tests at it (nil when it is there).
    static var corpusMissing: String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: corpus.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return nil
        }
        return "the Seata corpus is not at \(corpus.path): clone next to the project's shared folder "
            + "(../shared/corpus/seata), or set \(corpusVariable) to the corpus directory"
    }

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
