/// A first-in, first-out ring that moves elements out instead of copying them.
///
/// The dispatch path passes every delivery through three queues (a subscription's
/// buffer, its reader's batch, the agent's mailbox). NIO's `CircularBuffer.removeFirst()`
/// copies the element and then clears its slot, which for a message means retaining
/// and releasing its topic, payload, properties and decoding once more per queue —
/// atomic operations on objects the K subscribers of one publish share, so their
/// counts bounce between cores. Here taking the first element moves it out of its
/// slot (`Optional.take()`), and the only reference counting left is the caller's.
///
/// Not thread-safe; the owners keep it under their lock or in one task. Inlinable,
/// so that the runtime's mailbox (another module) gets it specialized to its element
/// type instead of generic code that looks its metadata up on every call.
public struct MovingQueue<Element> {
    @usableFromInline var slots: [Element?]
    @usableFromInline var head = 0
    /// The number of queued elements.
    @inlinable public var count: Int { stored }
    @usableFromInline var stored = 0

    /// An empty queue with room for about `capacity` elements before it grows.
    @inlinable public init(capacity: Int = 16) {
        var size = 1
        while size < max(capacity, 2) { size <<= 1 }
        slots = Array(repeating: nil, count: size)
    }

    @inlinable public var isEmpty: Bool { stored == 0 }

    /// Slot of the element at `offset` from the head; the size is a power of two.
    @inlinable func slot(_ offset: Int) -> Int { (head + offset) & (slots.count - 1) }

    @inlinable public mutating func append(_ element: consuming Element) {
        if stored == slots.count { grow() }
        slots[slot(stored)] = element
        stored += 1
    }

    /// Moves the first element out; nil when empty.
    @inlinable public mutating func popFirst() -> Element? {
        guard stored > 0 else { return nil }
        let element = slots[head].take()
        head = slot(1)
        stored -= 1
        return element
    }

    /// Calls `body` with each queued element, first to last, leaving them queued.
    @inlinable public func forEach(_ body: (Element) throws -> Void) rethrows {
        for offset in 0..<stored { try body(slots[slot(offset)]!) }
    }

    /// Replaces the first element that satisfies `predicate` with the one `replacement`
    /// makes (only called when there is a match); false when none does.
    @inlinable public mutating func replaceFirst(where predicate: (Element) -> Bool, with replacement: () -> Element) -> Bool {
        for offset in 0..<stored where predicate(slots[slot(offset)]!) {
            slots[slot(offset)] = replacement()
            return true
        }
        return false
    }

    /// Removes the first element that satisfies `predicate`, keeping the others in order.
    @inlinable public mutating func removeFirst(where predicate: (Element) -> Bool) -> Element? {
        guard let found = (0..<stored).first(where: { predicate(slots[slot($0)]!) }) else { return nil }
        let element = slots[slot(found)].take()
        for offset in found..<(stored - 1) {
            slots[slot(offset)] = slots[slot(offset + 1)].take()
        }
        stored -= 1
        return element
    }

    @inlinable mutating func grow() {
        var larger: [Element?] = []
        larger.reserveCapacity(slots.count * 2)
        for offset in 0..<stored { larger.append(slots[slot(offset)].take()) }
        larger.append(contentsOf: repeatElement(nil, count: slots.count * 2 - stored))
        slots = larger
        head = 0
    }
}

extension MovingQueue: Sendable where Element: Sendable {}
