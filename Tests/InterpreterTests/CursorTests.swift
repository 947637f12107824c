import Testing
@testable import Interpreter

@Suite("Cursor encoding")
struct CursorTests {
    @Test("Encoding then decoding gives the same cursor, whatever the state names contain")
    func roundTrip() throws {
        var cursor = Cursor()
        #expect(Cursor.decode(cursor.encoded()) == cursor)
        cursor.mode = .compensating
        cursor.state = "Pay \"now\" \\ ünïcode\n"
        cursor.seq = 7
        cursor.retryCounts = [1, 0, 3]
        cursor.nextSeq = 12
        cursor.logicalSteps = 5
        cursor.failEnd = true
        cursor.compensation = CompensationCursor(pending: [1, 3, 5], current: 6, seq: 11, retryCounts: [2], thenState: "Fäil")
        let decoded = try #require(Cursor.decode(cursor.encoded()))
        #expect(decoded == cursor)
    }

    @Test("Text that is not a cursor is refused")
    func refusesGarbage() {
        #expect(Cursor.decode("") == nil)
        #expect(Cursor.decode("{}") == nil)
        #expect(Cursor.decode("{\"mode\":\"sideways\",\"next\":1,\"logical\":0}") == nil)
    }
}
