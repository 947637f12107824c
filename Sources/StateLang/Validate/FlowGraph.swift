/// Graph algorithms over states numbered `0..<n`, with `successors[i]` the states `i` leads to.
/// Iterative, so a workflow with thousands of states in a chain cannot overflow the stack.
enum FlowGraph {
    /// Every state reachable from `sources` (the sources included).
    static func reachable(from sources: [Int], successors: [[Int]]) -> Set<Int> {
        var seen = Set(sources)
        var pending = sources
        while let state = pending.popLast() {
            for next in successors[state] where seen.insert(next).inserted { pending.append(next) }
        }
        return seen
    }

    /// The graph with every edge turned around.
    static func reversed(_ successors: [[Int]]) -> [[Int]] {
        var predecessors = [[Int]](repeating: [], count: successors.count)
        for (from, targets) in successors.enumerated() {
            for to in targets { predecessors[to].append(from) }
        }
        return predecessors
    }

    /// Strongly connected components (Tarjan), each sorted ascending, in order of their
    /// smallest member.
    static func stronglyConnectedComponents(successors: [[Int]]) -> [[Int]] {
        let count = successors.count
        var index = [Int?](repeating: nil, count: count)
        var lowLink = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var nextIndex = 0

        for root in 0..<count where index[root] == nil {
            // Each frame is a state and the position of the next successor to look at.
            var frames: [(state: Int, position: Int)] = [(root, 0)]
            index[root] = nextIndex
            lowLink[root] = nextIndex
            nextIndex += 1
            stack.append(root)
            onStack[root] = true

            while let frame = frames.last {
                let state = frame.state
                if frame.position < successors[state].count {
                    frames[frames.count - 1].position += 1
                    let next = successors[state][frame.position]
                    if let nextIdx = index[next] {
                        if onStack[next] { lowLink[state] = min(lowLink[state], nextIdx) }
                    } else {
                        index[next] = nextIndex
                        lowLink[next] = nextIndex
                        nextIndex += 1
                        stack.append(next)
                        onStack[next] = true
                        frames.append((next, 0))
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last?.state { lowLink[parent] = min(lowLink[parent], lowLink[state]) }
                if lowLink[state] == index[state] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == state { break }
                    }
                    components.append(component.sorted())
                }
            }
        }
        return components.sorted { $0[0] < $1[0] }
    }

    /// A shortest path from `start` back to `start` that stays inside `members`, as a list of
    /// states beginning and ending with `start`; nil when there is none.
    static func cycle(through start: Int, within members: Set<Int>, successors: [[Int]]) -> [Int]? {
        var parent: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for next in successors[state] where members.contains(next) {
                if next == start {
                    // Walk back from `state` to `start` through the BFS tree.
                    var backwards: [Int] = []
                    var current = state
                    while current != start, let previous = parent[current] {
                        backwards.append(current)
                        current = previous
                    }
                    return [start] + Array(backwards.reversed()) + [start]
                }
                if parent[next] == nil {
                    parent[next] = state
                    queue.append(next)
                }
            }
        }
        return nil
    }
}
