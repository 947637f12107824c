extension FaultSpec {
    /// Parses the compact form.
    ///
    /// ```
    /// spec     := rule (';' rule)*            empty rules and spaces around tokens are ignored
    /// rule     := target ':' setting (',' setting)*
    /// target   := service | service '.' operation | service '.*' | '*' | '*.*'
    /// setting  := 'kind=' ('5xx' | 'timeout' | 'reset' | 'drop' | 'latency')
    ///           | 'rate=' number in 0…1       default 1
    ///           | 'latency=' duration         the delay of kind=latency (implied when no kind
    ///                                         is given), else a delay before the other kind
    ///           | 'status=' 500…599           with kind=5xx; default 503
    ///           | 'hold=' duration            with kind=timeout; default 10s
    ///           | 'down' ['=' duration]       alone, on a whole service: refuse connections
    ///                                         from the start, for that long or until told
    /// duration := number ('ms' | 's')
    /// ```
    /// Example: `payments.pay:rate=0.2,kind=5xx;inventory.*:latency=50ms;notifications:down=2s`.
    public init(parsing text: String, seed: UInt64 = 0) throws(FaultSpecError) {
        self.init(rules: try FaultSpecParser(text: text).parse(), seed: seed)
    }
}

/// A piece of the spec and where it starts.
private struct Token {
    var text: String
    var offset: Int
    var length: Int { text.count }
}

private struct FaultSpecParser {
    let text: String

    func parse() throws(FaultSpecError) -> [FaultRule] {
        var rules: [FaultRule] = []
        for segment in split(Token(text: text, offset: 0), on: ";") where !segment.text.isEmpty {
            rules.append(try rule(segment))
        }
        return rules
    }

    private func error(_ message: String, at token: Token) -> FaultSpecError {
        FaultSpecError(message: message, spec: text, offset: token.offset, length: token.length)
    }

    /// Splits `token` on `separator`, trimming spaces off each piece (offsets follow).
    private func split(_ token: Token, on separator: Character, maxSplits: Int = .max) -> [Token] {
        var pieces: [Token] = []
        var start = 0
        var splits = 0
        let chars = Array(token.text)
        for (index, character) in chars.enumerated() where character == separator && splits < maxSplits {
            pieces.append(trimmed(Token(text: String(chars[start..<index]), offset: token.offset + start)))
            start = index + 1
            splits += 1
        }
        pieces.append(trimmed(Token(text: String(chars[start...]), offset: token.offset + start)))
        return pieces
    }

    private func trimmed(_ token: Token) -> Token {
        let leading = token.text.prefix { $0.isWhitespace }.count
        let body = token.text.dropFirst(leading)
        let trailing = body.reversed().prefix { $0.isWhitespace }.count
        return Token(text: String(body.dropLast(trailing)), offset: token.offset + leading)
    }

    private func rule(_ segment: Token) throws(FaultSpecError) -> FaultRule {
        let parts = split(segment, on: ":", maxSplits: 1)
        guard parts.count == 2 else {
            throw error(
                "rule '\(segment.text)' needs ':' between its target and its settings (payments.pay:kind=5xx)",
                at: segment)
        }
        let target = try self.target(parts[0])
        let settingsToken = parts[1]
        guard !settingsToken.text.isEmpty else {
            throw error("rule for '\(parts[0].text)' has no settings after ':'", at: parts[0])
        }

        var seen: [String: Token] = [:]
        var kindToken: Token?
        var kindName: String?
        var rate: Double?
        var latency: Duration?
        var status: (Int, Token)?
        var hold: (Duration, Token)?
        var down: (Duration?, Token)?
        for setting in split(settingsToken, on: ",") {
            guard !setting.text.isEmpty else { throw error("empty setting", at: setting) }
            let pair = split(setting, on: "=", maxSplits: 1)
            let name = pair[0]
            let value = pair.count == 2 ? pair[1] : nil
            if seen[name.text] != nil { throw error("'\(name.text)' is given twice in this rule", at: name) }
            seen[name.text] = name
            if name.text != "down" {
                guard let value, !value.text.isEmpty else {
                    throw error("'\(name.text)' needs a value ('\(name.text)=…')", at: setting)
                }
            }
            switch name.text {
            case "kind":
                let kinds = ["5xx", "timeout", "reset", "drop", "latency"]
                guard let value, kinds.contains(value.text) else {
                    throw error(
                        "unknown fault kind '\(value?.text ?? "")'\(suggestion(value?.text ?? "", kinds)); kinds are \(kinds.joined(separator: ", "))",
                        at: value ?? name)
                }
                kindToken = value
                kindName = value.text
            case "rate":
                guard let value, let number = Double(value.text), number >= 0, number <= 1 else {
                    throw error("rate must be a number from 0 to 1, got '\(value?.text ?? "")'", at: value ?? name)
                }
                rate = number
            case "latency":
                latency = try duration(value!)
            case "hold":
                let amount = try duration(value!)
                guard amount > .zero else { throw error("hold must be longer than 0", at: value!) }
                hold = (amount, value!)
            case "status":
                guard let value, let code = Int(value.text), (500...599).contains(code) else {
                    throw error("status must be a 5xx code (500…599), got '\(value?.text ?? "")'", at: value ?? name)
                }
                status = (code, value)
            case "down":
                down = (try value.map { token throws(FaultSpecError) in try duration(token) }, name)
            default:
                let names = ["kind", "rate", "latency", "status", "hold", "down"]
                throw error(
                    "unknown setting '\(name.text)'\(suggestion(name.text, names)); settings are \(names.joined(separator: ", "))",
                    at: name)
            }
        }

        if let (duration, token) = down {
            guard seen.count == 1 else {
                let other = seen.values.filter { $0.text != "down" }.min { $0.offset < $1.offset }!
                throw error("'down' takes no other setting ('\(other.text)')", at: other)
            }
            guard target.operation == nil else {
                throw error(
                    "'down' applies to a whole service: connections are refused before the operation is known; "
                        + "write '\(target.service?.rawValue ?? "*"):down', or kind=reset to drop one operation's requests",
                    at: token)
            }
            return FaultRule(target: target, kind: .down(duration))
        }
        if let (_, token) = status, kindName != "5xx" {
            throw error("'status' goes with kind=5xx", at: token)
        }
        if let (_, token) = hold, kindName != "timeout" {
            throw error("'hold' goes with kind=timeout", at: token)
        }
        let kind: FaultKind
        var delay: Duration = .zero
        switch kindName {
        case nil, "latency"?:
            guard let latency else {
                if let kindToken { throw error("kind=latency needs latency=DURATION (latency=50ms)", at: kindToken) }
                throw error(
                    "rule for '\(parts[0].text)' does nothing: give kind=…, latency=… or down", at: settingsToken)
            }
            kind = .latency(latency)
        case "5xx"?:
            kind = .serverError(status: status?.0 ?? FaultKind.defaultServerErrorStatus)
            delay = latency ?? .zero
        case "timeout"?:
            kind = .timeout(hold: hold?.0 ?? FaultKind.defaultHold)
            delay = latency ?? .zero
        case "reset"?:
            kind = .reset
            delay = latency ?? .zero
        default:
            kind = .dropReply
            delay = latency ?? .zero
        }
        return FaultRule(target: target, kind: kind, rate: rate ?? 1, delay: delay)
    }

    private func target(_ token: Token) throws(FaultSpecError) -> FaultTarget {
        guard !token.text.isEmpty else { throw error("a rule needs a target before ':' (payments.pay)", at: token) }
        let parts = split(token, on: ".", maxSplits: 1)
        let serviceToken = parts[0]
        var service: ShopService?
        if serviceToken.text != "*" {
            guard let named = ShopService(rawValue: serviceToken.text) else {
                let names = ShopService.allCases.map(\.rawValue)
                throw error(
                    "unknown service '\(serviceToken.text)'\(suggestion(serviceToken.text, names)); services are \(names.joined(separator: ", "))",
                    at: serviceToken)
            }
            service = named
        }
        guard parts.count == 2, parts[1].text != "*" else { return FaultTarget(service: service) }
        let operationToken = parts[1]
        guard let service else {
            let owner = ShopOperation(rawValue: operationToken.text).map { "'\($0.service).\($0)'" } ?? "'service.operation'"
            throw error("an operation needs its service: write \(owner)", at: operationToken)
        }
        guard let operation = ShopOperation(rawValue: operationToken.text), operation.service == service else {
            let names = service.operations.map(\.rawValue)
            throw error(
                "\(service) has no operation '\(operationToken.text)'\(suggestion(operationToken.text, names)); its operations are \(names.joined(separator: ", ")), or *",
                at: operationToken)
        }
        return FaultTarget(service: service, operation: operation)
    }

    private func duration(_ token: Token) throws(FaultSpecError) -> Duration {
        guard let duration = FaultDuration.parse(token.text) else {
            throw error("'\(token.text)' is not a duration: a number and ms or s (50ms, 1.5s)", at: token)
        }
        return duration
    }

    /// ` (did you mean 'x'?)` for the closest candidate within two edits, else "".
    private func suggestion(_ word: String, _ candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= 2, distance < best.count else { return "" }
        return " (did you mean '\(best)'?)"
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
