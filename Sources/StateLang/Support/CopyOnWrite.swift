/// A value kept in one heap object and copied when written while shared: 8 bytes wherever it
/// is passed, returned or held.
///
/// For large records copied often: the engine's `InstanceRecord`, `Invocation` and
/// `Transition`, and the front end's `StateSyntax` (each validation rule walks every state).
/// For the engine's records, size matters as much as copying. Async
/// functions that hold one across an await keep it in their frame, and a task keeps the memory
/// of its deepest frames (1 KB task-allocator slabs) for as long as it lives: inline, these
/// records made the frames on the path of every running instance too big to share a slab
/// (`sagactl bench --inflight`).
package struct CopyOnWrite<Value: Sendable>: Sendable {
    // @unchecked: `value` is changed only through `CopyOnWrite.value`'s modify accessor, after
    // it made this storage unique to the changing value, so no two values share a storage
    // that changes.
    @usableFromInline
    final class Storage: @unchecked Sendable {
        @usableFromInline var value: Value
        @inlinable init(_ value: Value) { self.value = value }
    }

    @usableFromInline var storage: Storage

    @inlinable package init(_ value: Value) { storage = Storage(value) }

    /// Read in place (`_read`, inlinable so that other modules specialize it): a plain getter
    /// would copy the whole record, retaining and releasing every field, to read one of them.
    @inlinable package var value: Value {
        _read { yield storage.value }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.value) }
            yield &storage.value
        }
    }

    /// Whether both hold the same storage (then their values are equal without comparing).
    @inlinable package func sharesStorage(with other: CopyOnWrite<Value>) -> Bool { storage === other.storage }
}

extension CopyOnWrite: Equatable where Value: Equatable {
    package static func == (lhs: CopyOnWrite, rhs: CopyOnWrite) -> Bool {
        lhs.sharesStorage(with: rhs) || lhs.value == rhs.value
    }
}

extension CopyOnWrite: Hashable where Value: Hashable {
    package func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
}
