import Foundation

/// Reads expressions out of the Seata definition corpus (`TestPaths.corpus`: by default
/// `../shared/corpus/seata` next to the repository root, here and in CI). Files are read with `JSONSerialization`, not the
/// project's loader, so this test depends on nothing but the expression module.
enum ExpressionCorpus {
    /// Where an expression sits in a state, which decides how it is parsed.
    enum Place: String, CaseIterable, Comparable {
        case input = "Input leaf"
        case output = "Output value"
        case status = "Status key"
        case choice = "Choices[].Expression"
        case edge = "designer edge Expression"
        case loopCollection = "Loop.Collection"
        case loopCompletion = "Loop.CompletionCondition"

        /// Leaves (`$`-prefixed or literal) versus conditions (SpEL without `$`).
        var isLeaf: Bool { self == .input || self == .output || self == .loopCollection }

        static func < (a: Place, b: Place) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    struct Item {
        var file: String
        var state: String
        var place: Place
        var text: String
    }

    static var directory: URL { TestPaths.corpus }

    /// The files of one group (`java`, `go`, `proposal`) as `SOURCES.md` lists them.
    static func files(group: String) throws -> [URL] {
        let sources = try String(contentsOf: directory.appendingPathComponent("SOURCES.md"), encoding: .utf8)
        var files: [URL] = []
        for line in sources.split(separator: "\n") where line.hasPrefix("| ") {
            // | # | `file` | group | repository | …
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3, Int(cells[1]) != nil, cells[3] == group else { continue }
            files.append(directory.appendingPathComponent(cells[2].trimmingCharacters(in: ["`"])))
        }
        return files
    }

    static func json(_ url: URL) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }

    /// Every expression of one definition: standard (`States`) or designer (`nodes`/`edges`).
    static func items(in url: URL) throws -> [Item] {
        guard let document = try json(url) as? [String: Any] else { return [] }
        let file = url.lastPathComponent
        var items: [Item] = []
        if let nodes = document["nodes"] as? [[String: Any]] {
            for node in nodes {
                guard let props = node["stateProps"] as? [String: Any] else { continue }
                items += state(props, name: node["stateId"] as? String ?? "?", file: file)
            }
            for edge in document["edges"] as? [[String: Any]] ?? [] {
                // A default edge is taken without evaluating its (empty) expression.
                guard let props = edge["stateProps"] as? [String: Any], props["Default"] as? Bool != true,
                    let expression = props["Expression"] as? String
                else { continue }
                items.append(Item(file: file, state: "edge", place: .edge, text: expression))
            }
        } else if let states = document["States"] as? [String: Any] {
            for (name, value) in states {
                guard let props = value as? [String: Any] else { continue }
                items += state(props, name: name, file: file)
            }
        }
        return items
    }

    static func state(_ props: [String: Any], name: String, file: String) -> [Item] {
        var items: [Item] = []
        func add(_ place: Place, _ text: String) {
            items.append(Item(file: file, state: name, place: place, text: text))
        }
        func leaves(_ value: Any) {
            if let text = value as? String {
                add(.input, text)
            } else if let list = value as? [Any] {
                list.forEach(leaves)
            } else if let map = value as? [String: Any] {
                map.values.forEach(leaves)
            }
        }
        if let input = props["Input"] { leaves(input) }
        for case let text as String in (props["Output"] as? [String: Any] ?? [:]).values where text.hasPrefix("$") {
            add(.output, text)
        }
        for key in (props["Status"] as? [String: Any] ?? [:]).keys { add(.status, key) }
        for choice in props["Choices"] as? [[String: Any]] ?? [] {
            if let expression = choice["Expression"] as? String { add(.choice, expression) }
        }
        if let loop = props["Loop"] as? [String: Any] {
            if let collection = loop["Collection"] as? String { add(.loopCollection, collection) }
            if let completion = loop["CompletionCondition"] as? String { add(.loopCompletion, completion) }
        }
        return items
    }

    /// Every string anywhere in a JSON document.
    static func allStrings(_ value: Any) -> [String] {
        if let text = value as? String { return [text] }
        if let list = value as? [Any] { return list.flatMap(allStrings) }
        if let map = value as? [String: Any] { return map.keys.map { $0 } + map.values.flatMap(allStrings) }
        return []
    }
}
