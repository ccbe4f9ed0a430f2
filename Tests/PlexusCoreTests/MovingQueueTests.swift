import PlexusCore
import Testing

@Suite("MovingQueue")
struct MovingQueueTests {
    @Test("first in, first out across growth and wrap-around")
    func fifo() {
        var queue = MovingQueue<Int>(capacity: 2)
        var expected: [Int] = []
        var taken: [Int] = []
        for round in 0..<50 {
            for value in 0..<(round % 7) { queue.append(round * 10 + value); expected.append(round * 10 + value) }
            for _ in 0..<(round % 5) { if let value = queue.popFirst() { taken.append(value) } }
        }
        while let value = queue.popFirst() { taken.append(value) }
        #expect(taken == expected)
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test("replacing and removing the first match keep the others in order")
    func replaceAndRemove() {
        var queue = MovingQueue<String>(capacity: 4)
        for value in ["a", "b", "c", "d", "e"] { queue.append(value) }
        _ = queue.popFirst()
        queue.append("f")
        let replaced = queue.replaceFirst(where: { $0 == "c" }, with: { "C" })
        let replacedNone = queue.replaceFirst(where: { $0 == "z" }, with: { "Z" })
        let removed = queue.removeFirst(where: { $0 == "d" })
        let removedNone = queue.removeFirst(where: { $0 == "z" })
        #expect(replaced && !replacedNone)
        #expect(removed == "d" && removedNone == nil)
        #expect(queue.count == 4)
        var rest: [String] = []
        while let value = queue.popFirst() { rest.append(value) }
        #expect(rest == ["b", "C", "e", "f"])
    }

    @Test("taking an element out leaves no reference behind in the queue")
    func movesOut() {
        final class Box {}
        var queue = MovingQueue<Box>()
        weak var weakBox: Box?
        do {
            let box = Box()
            weakBox = box
            queue.append(box)
        }
        #expect(weakBox != nil)
        _ = queue.popFirst()
        #expect(weakBox == nil)
    }
}
