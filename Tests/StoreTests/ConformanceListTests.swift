import Foundation
import Interpreter
import StateLang
import Testing

/// `listInstances` and `countByStatus`.
@Suite("Conformance: listing")
struct ConformanceListTests {
    /// Created in a shuffled order; `created` gives the age.
    static let records = [
        Fixtures.instance("p1", created: 3),
        Fixtures.instance("p2", created: 1, status: .succeeded),
        Fixtures.instance("p3", created: 5, status: .compensated, workflow: "Refund"),
        Fixtures.instance("c1", created: 4, parent: "p1"),
        Fixtures.instance("c2", created: 6, status: .failed, parent: "p1"),
        Fixtures.instance("c3", created: 2, parent: "p3", workflow: "Refund"),
        Fixtures.instance("p4", created: 7, status: .succeeded),
        // Same creation time as p4: the id breaks the tie, newest (largest) first.
        Fixtures.instance("p5", created: 7, status: .needsIntervention),
    ]

    static let listCases: [(query: InstanceQuery, ids: [InstanceID])] = [
        (InstanceQuery(), ["p5", "p4", "c2", "p3", "c1", "p1", "c3", "p2"]),
        (InstanceQuery(limit: 3), ["p5", "p4", "c2"]),
        (InstanceQuery(limit: 0), []),
        (InstanceQuery(status: .running), ["c1", "p1", "c3"]),
        (InstanceQuery(status: .succeeded), ["p4", "p2"]),
        (InstanceQuery(status: .compensating), []),
        (InstanceQuery(workflowName: "Refund"), ["p3", "c3"]),
        (InstanceQuery(parentID: "p1"), ["c2", "c1"]),
        (InstanceQuery(topLevelOnly: true), ["p5", "p4", "p3", "p1", "p2"]),
        (InstanceQuery(topLevelOnly: true, limit: 2), ["p5", "p4"]),
        (InstanceQuery(status: .running, workflowName: "OrderPayment", topLevelOnly: true), ["p1"]),
        (InstanceQuery(status: .running, workflowName: "Refund", parentID: "p3"), ["c3"]),
        (InstanceQuery(workflowName: "Nothing"), []),
    ]

    @Test(arguments: StoreKind.underTest)
    func listFiltersAndOrdersNewestFirst(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.seed(Self.records)
            for (query, ids) in Self.listCases {
                let listed = try await store.listInstances(query)
                #expect(listed.map(\.id) == ids, "query \(query)")
            }
            let one = try await store.listInstances(InstanceQuery(parentID: "p3"))
            expectSame(one, [Self.records[5]])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func countByStatusCountsEveryInstance(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.countByStatus().isEmpty)
            try await store.seed(Self.records)
            #expect(try await store.countByStatus() == [
                .running: 3, .succeeded: 2, .compensated: 1, .failed: 1, .needsIntervention: 1,
            ])
            var finished = Self.records[0]
            finished.status = .succeeded
            try await store.apply(Transition(instance: finished))
            #expect(try await store.countByStatus() == [
                .running: 2, .succeeded: 3, .compensated: 1, .failed: 1, .needsIntervention: 1,
            ])
        }
    }
}
