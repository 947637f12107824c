import Foundation
import Testing

@testable import Interpreter

@Suite("Instance identifiers")
struct InstanceIDTests {
    static let alphabet = Set("0123456789abcdefghjkmnpqrstvwxyz")

    @Test func timeThenRandomInBase32() {
        // 1,700,000,000,500 ms in ten base-32 digits, then the low 60 bits of the first draw
        // and the low 20 of the second, five bits a character, lowest first.
        let id = InstanceIDs.generate(now: Date(timeIntervalSince1970: 1_700_000_000.5),
                                      draws: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210))
        #expect(id == "01hf7yatfmffkqt4yc5t82ggc8")
        #expect(InstanceIDs.generate(now: Date(timeIntervalSince1970: 0), draws: (0, 0)) == String(repeating: "0", count: 26))
        #expect(InstanceIDs.generate(now: Date(timeIntervalSince1970: 0), draws: (.max, .max))
            == String(repeating: "0", count: 10) + String(repeating: "z", count: 16))
    }

    @Test func laterMillisecondsSortAfter() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var previous = InstanceIDs.generate(now: start, draws: (.max, .max))
        // Steps of 1/512 s (exact in binary): every one reaches a later millisecond.
        for step in 1...2_000 {
            let id = InstanceIDs.generate(now: start.addingTimeInterval(Double(step) / 512), draws: (0, 0))
            #expect(id > previous, "\(id) after \(previous)")
            previous = id
        }
    }

    @Test func generatedIDsAreDistinctAndWellFormed() {
        let now = Date()
        let ids = (0..<1_000).map { _ in InstanceIDs.generate(now: now) }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.count == 26 && id.allSatisfy(Self.alphabet.contains), "\(id)")
            #expect(id.prefix(10) == ids[0].prefix(10))
        }
    }
}
